// The atomic writes in flight in this process, so that an interruption can remove their
// temporary files before the process exits (AtomicWrite registers and unregisters each).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

extension AtomicFile {
    /// Unlinks every temporary file still being written: for the CLI's interruption, before it
    /// exits. Not for a signal handler (it takes a lock); none needs it: the CLI takes its signals
    /// with dispatch sources and calls this as ordinary code on a queue (`Interruption`).
    public static func removeAllInFlight() {
        InFlightRegistry.shared.forEachPath { unlink($0) }
    }

    /// Unlinks the temporary files being written inside `folder` only, leaving other writers in
    /// the process alone (for tests that run beside other writers).
    static func removeAllInFlight(inside folder: String) {
        let prefix = (folder.hasSuffix("/") ? folder : folder + "/").pathCString
        InFlightRegistry.shared.forEachPath { path in
            if strncmp(path, prefix, prefix.count - 1) == 0 { unlink(path) }
        }
    }

    /// The temporary files being written right now (for tests).
    static var inFlightPaths: [String] {
        var paths: [String] = []
        InFlightRegistry.shared.forEachPath { paths.append(String(pathCString: $0)) }
        return paths
    }
}

/// Fixed table of temporary paths, allocated once: `slotCount` slots of `pathCapacity` bytes,
/// each with an active flag. Writers fill and empty slots, and the interruption reads them, all
/// under the table's lock, so no slot is read while another thread is filling or reusing it.
final class InFlightRegistry: Sendable {
    static let slotCount = 64
    static let pathCapacity = 4096
    static let shared = InFlightRegistry()

    private struct Table {
        let paths: UnsafeMutablePointer<CChar>  // (slotCount, pathCapacity) NUL-terminated paths
        let active: UnsafeMutablePointer<Int32> // (slotCount) 1 while the slot's file is in flight
    }
    private let table: Locked<Table>

    private init() {
        let paths = UnsafeMutablePointer<CChar>.allocate(capacity: Self.slotCount * Self.pathCapacity)
        paths.initialize(repeating: 0, count: Self.slotCount * Self.pathCapacity)
        let active = UnsafeMutablePointer<Int32>.allocate(capacity: Self.slotCount)
        active.initialize(repeating: 0, count: Self.slotCount)
        table = Locked(Table(paths: paths, active: active))
    }

    /// Records a path; nil when the table is full or the path too long (the file is then still
    /// removed on errors, only not by the interruption).
    func register(_ path: String) -> Int? {
        let utf8 = path.pathBytes
        guard utf8.count < Self.pathCapacity else { return nil }
        return table.withLock { table in
            guard let slot = (0..<Self.slotCount).first(where: { table.active[$0] == 0 }) else { return nil }
            let base = table.paths + slot * Self.pathCapacity
            for (i, byte) in utf8.enumerated() { base[i] = CChar(bitPattern: byte) }
            base[utf8.count] = 0
            table.active[slot] = 1
            return slot
        }
    }

    func unregister(_ slot: Int) {
        table.withLock { $0.active[slot] = 0 }
    }

    /// Calls `body` with each path in flight, the lock held (`body` must not register or unregister).
    func forEachPath(_ body: (UnsafePointer<CChar>) -> Void) {
        table.withLock { table in
            for slot in 0..<Self.slotCount where table.active[slot] != 0 {
                body(table.paths + slot * Self.pathCapacity)
            }
        }
    }
}
