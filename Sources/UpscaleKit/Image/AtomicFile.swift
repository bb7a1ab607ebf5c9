// Atomic file writes: bytes go to a temporary file beside the target
// (`.<name>.upscale-XXXXXX`, made by mkstemp), which is flushed, fsync-ed and renamed over the
// target only when complete. On any error, or when the writer is dropped unfinished, the temporary
// file is removed; the target is untouched until the rename.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum AtomicFile {
    /// Unlinks every temporary file still being written. Async-signal-safe (only `unlink` on
    /// preallocated C strings, no locks, no allocation): call it from a SIGINT/SIGTERM handler
    /// before exiting.
    public static func removeAllInFlight() {
        removeInFlight(folderPrefix: nil)
    }

    /// Unlinks the temporary files being written inside `folder` only, leaving other writers in
    /// the process alone (for tests that run beside other writers). Not for signal handlers: it
    /// allocates.
    public static func removeAllInFlight(inside folder: String) {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        prefix.withCString { removeInFlight(folderPrefix: (pointer: $0, length: strlen($0))) }
    }

    private static func removeInFlight(folderPrefix: (pointer: UnsafePointer<CChar>, length: Int)?) {
        let registry = InFlightRegistry.shared
        for slot in 0..<InFlightRegistry.slotCount where registry.active[slot] != 0 {
            let path = registry.paths + slot * InFlightRegistry.pathCapacity
            if let folderPrefix, strncmp(path, folderPrefix.pointer, folderPrefix.length) != 0 { continue }
            unlink(path)
        }
    }

    /// Allocates the in-flight table now, so that a later `removeAllInFlight()` from a signal
    /// handler never runs a lazy initializer. Call it before installing your own handler.
    public static func prepareForSignals() {
        _ = InFlightRegistry.shared
    }

    /// Installs handlers for `signals` (default SIGINT, SIGTERM, SIGHUP) that remove every
    /// in-flight temporary file, then restore the default action and re-raise the signal, so
    /// the process ends with the usual status (130 for Ctrl-C).
    public static func installSignalCleanup(signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        prepareForSignals()
        for signalNumber in signals {
            signal(signalNumber) { received in
                AtomicFile.removeAllInFlight()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    /// The temporary files being written right now (for tests and diagnostics).
    public static var inFlightPaths: [String] {
        let registry = InFlightRegistry.shared
        return (0..<InFlightRegistry.slotCount).compactMap { slot in
            registry.active[slot] != 0 ? String(cString: registry.paths + slot * InFlightRegistry.pathCapacity) : nil
        }
    }
}

/// Fixed table of temporary paths, allocated once so a signal handler can read it without
/// allocating: `slotCount` slots of `pathCapacity` bytes, each with an active flag.
final class InFlightRegistry: @unchecked Sendable {
    static let slotCount = 64
    static let pathCapacity = 4096
    static let shared = InFlightRegistry()

    let paths: UnsafeMutablePointer<CChar>  // (slotCount, pathCapacity) NUL-terminated paths
    let active: UnsafeMutablePointer<Int32> // (slotCount) 1 while the slot's file is in flight
    private let lock = NSLock()

    private init() {
        paths = .allocate(capacity: Self.slotCount * Self.pathCapacity)
        paths.initialize(repeating: 0, count: Self.slotCount * Self.pathCapacity)
        active = .allocate(capacity: Self.slotCount)
        active.initialize(repeating: 0, count: Self.slotCount)
    }

    /// Records a path; nil when the table is full or the path too long (the file is then still
    /// removed on errors, only not by a signal handler).
    func register(_ path: String) -> Int? {
        let utf8 = Array(path.utf8)
        guard utf8.count < Self.pathCapacity else { return nil }
        lock.lock()
        defer { lock.unlock() }
        guard let slot = (0..<Self.slotCount).first(where: { active[$0] == 0 }) else { return nil }
        let base = paths + slot * Self.pathCapacity
        for (i, byte) in utf8.enumerated() { base[i] = CChar(bitPattern: byte) }
        base[utf8.count] = 0
        active[slot] = 1
        return slot
    }

    func unregister(_ slot: Int) {
        lock.lock()
        active[slot] = 0
        lock.unlock()
    }
}

/// One atomic write in progress.
final class AtomicWrite: OutputSink {
    let name: String          // the target path
    let tempPath: String
    let file: UnsafeMutablePointer<FILE>
    private let overwrite: Bool
    private var slot: Int?
    private var done = false

    /// The permission bits new files get (0666 minus the umask), read once.
    private static let newFileMode: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }()

    /// Creates the temporary file; refuses when the target exists and `overwrite` is false.
    init(path: String, overwrite: Bool) throws {
        name = path
        self.overwrite = overwrite
        if !overwrite && Self.exists(path) {
            throw ImageIOError(path: path, message: "file exists; pass --overwrite to replace it")
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let base = url.lastPathComponent
        var template = Array("\(directory)/.\(base).upscale-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ImageIOError(path: path, message: "cannot create a temporary file in \(directory): \(errnoText())")
        }
        tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        slot = InFlightRegistry.shared.register(tempPath)
        _ = fchmod(fd, Self.newFileMode)
        guard let file = fdopen(fd, "wb") else {
            let text = errnoText()
            close(fd)
            unlink(tempPath)
            if let slot { InFlightRegistry.shared.unregister(slot) }
            throw ImageIOError(path: path, message: "cannot open the temporary file: \(text)")
        }
        self.file = file
    }

    deinit { discard() }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    func commit() throws {
        guard !done else { return }
        done = true
        var failure: String?
        if fflush(file) != 0 || ferror(file) != 0 { failure = "write failed: \(errnoText())" }
        if failure == nil && fsync(fileno(file)) != 0 { failure = "fsync failed: \(errnoText())" }
        if fclose(file) != 0 && failure == nil { failure = "close failed: \(errnoText())" }
        if failure == nil && !overwrite && Self.exists(name) {
            failure = "file exists; pass --overwrite to replace it"
        }
        if failure == nil && rename(tempPath, name) != 0 { failure = "cannot rename the temporary file into place: \(errnoText())" }
        if failure != nil { unlink(tempPath) }
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
        if let failure { throw ImageIOError(path: name, message: failure) }
    }

    func discard() {
        guard !done else { return }
        done = true
        fclose(file)
        unlink(tempPath)
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
    }
}
