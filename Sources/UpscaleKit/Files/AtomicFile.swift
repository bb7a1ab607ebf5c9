// Atomic file writes: bytes go to a temporary file beside the target, which is flushed, fsync-ed
// and moved to the target only when complete. On any error, or when the writer is dropped
// unfinished, the temporary file is removed; the target is untouched until the final step.
//
// Temporary names are `.upscale-HHHHHHHH-PID-XXXXXX`: a fixed prefix, a hash of the host name,
// the writer's process id and mkstemp's random part. They are at most 32 bytes whatever the
// target's name (so they fit NAME_MAX when the target does).
//
// Ownership of a temporary: its writer holds an advisory lock (flock, LOCK_EX) on it from the
// moment it is created until it is renamed into place or removed. A later run removes the
// temporaries of its host that nobody holds (their writer was killed with -9, crashed, or the
// power was cut: the kernel drops the lock with the process), see
// `AtomicFile.removeStaleTemporaries(in:)`. A lock, unlike the process id in the name, means the
// same thing in every PID namespace of a kernel: two containers that share a host name and a
// volume see each other's live temporaries as locked, whatever their process ids. Where the
// filesystem keeps no locks (flock fails with ENOLCK or EOPNOTSUPP: some FUSE and SMB mounts) the
// process id decides, as it can only within one PID namespace.
//
// The final step: without `overwrite` it never replaces a file, atomically, so two processes
// writing the same output cannot both succeed: renameat2(RENAME_NOREPLACE), or where the
// filesystem refuses that flag, link() + unlink() (link fails with EEXIST when the name is
// taken). With `overwrite` it is rename(), and the new file keeps the permission bits of the file
// it replaces; new files get 0666 minus the umask. Only a regular file is ever replaced: a device
// node, FIFO, socket, symbolic link or folder at the target is refused (`OutputPathState`), when
// the write begins and again just before the rename.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum AtomicFile {
    /// Writes `bytes` to `path` atomically, by the rules of this file: a temporary beside it,
    /// then the final step; `overwrite` replaces a regular file only.
    /// - Throws: `ImageIOError` naming `path`: `.outputExists`, `.outputNotRegular`, or a failed write.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        let write = try AtomicWrite(path: path, overwrite: overwrite)
        if !bytes.isEmpty && fwrite(bytes, 1, bytes.count, write.file) != bytes.count {
            let text = errnoText()
            write.discard()
            throw ImageIOError(path: path, message: "write failed: \(text)", side: .output)
        }
        try write.commit()
    }

    /// The start of every temporary name this process makes: `.upscale-HHHHHHHH-PID-`.
    public static var temporaryNamePrefix: String { temporaryNamePrefix(pid: getpid()) }

    static func temporaryNamePrefix(pid: pid_t) -> String { ".upscale-\(hostTag)-\(pid)-" }

    /// 8 hex digits of the FNV-1a hash of the host name: process ids are only compared between
    /// processes of one host (a folder may be shared over the network by several machines).
    static let hostTag: String = {
        var name = [CChar](repeating: 0, count: 256)
        if gethostname(&name, name.count - 1) != 0 { name[0] = 0 }
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.prefix(while: { $0 != 0 }) { hash = (hash ^ UInt32(UInt8(bitPattern: byte))) &* 0x0100_0193 }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }()

    /// Removes the temporary files in `folder` left by writers of this host that no longer hold
    /// them (see the top of this file): each candidate is opened and locked without waiting; a
    /// lock that is granted means no writer is alive, and the file is removed while the lock is
    /// held. Files locked by a writer (in any PID namespace), of other hosts, anything not named
    /// like our temporaries, and anything that is not a regular file are left alone. Returns the
    /// names removed.
    @discardableResult
    public static func removeStaleTemporaries(in folder: String) -> [String] {
        guard let names = try? FileSystem.names(inFolder: folder) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = ownerOfTemporary(named: name), pid != getpid() else { continue }
            let path = (folder as NSString).appendingPathComponent(name)
            // O_NOFOLLOW: a link is not ours; O_NONBLOCK: a FIFO does not hang the open.
            let fd = open(path.pathCString, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }  // releases the lock, after the unlink
            var status = stat()
            guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                // EWOULDBLOCK: a writer holds it. Any other failure: this filesystem keeps no
                // locks, and only the process id can tell (within this PID namespace).
                guard code != EWOULDBLOCK, kill(pid, 0) != 0 && errno == ESRCH else { continue }
            }
            // The name still leads to the file locked here (not one made since under that name).
            var named = stat()
            guard lstat(path.pathCString, &named) == 0, named.st_dev == status.st_dev, named.st_ino == status.st_ino else { continue }
            if unlink(path.pathCString) == 0 { removed.append(name) }
        }
        return removed
    }

    /// The process id in a temporary name of this host (`.upscale-HHHHHHHH-PID-XXXXXX`), else nil.
    static func ownerOfTemporary(named name: String) -> pid_t? {
        let prefix = ".upscale-\(hostTag)-"
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard rest.count == 2, rest[1].count == 6, rest[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
              let pid = pid_t(rest[0]), pid > 0, String(pid) == rest[0] else { return nil }
        return pid
    }

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

/// One atomic write in progress.
final class AtomicWrite: OutputSink {
    let name: String          // the target path
    let tempPath: String
    let file: UnsafeMutablePointer<FILE>
    private let overwrite: Bool
    private let lockHolder: Int32  // a second descriptor of the temporary: its flock lives until the rename
    private var slot: Int?
    private var done = false

    /// The permission bits new files get (0666 minus the umask), read once.
    private static let newFileMode: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }()

    /// Creates the temporary file, locked; refuses when the target exists and `overwrite` is
    /// false, and whatever `overwrite` says when the target is not a regular file.
    init(path: String, overwrite: Bool) throws {
        name = path
        self.overwrite = overwrite
        try Self.checkTarget(path, overwrite: overwrite)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let (fd, tempPath) = try Self.createLockedTemporary(in: directory, for: path)
        self.tempPath = tempPath
        slot = InFlightRegistry.shared.register(tempPath)
        _ = fchmod(fd, Self.newFileMode)
        lockHolder = dup(fd)  // -1 only when out of descriptors: fdopen below fails then too
        guard lockHolder >= 0, let file = fdopen(fd, "wb") else {
            let text = errnoText()
            if lockHolder >= 0 { close(lockHolder) }
            close(fd)
            unlink(tempPath.pathCString)
            if let slot { InFlightRegistry.shared.unregister(slot) }
            throw ImageIOError(path: path, message: "cannot open the temporary file: \(text)", side: .output)
        }
        self.file = file
    }

    /// Throws unless `path` may be written: free, or a regular file with `overwrite`.
    static func checkTarget(_ path: String, overwrite: Bool) throws {
        switch OutputPathState.of(path) {
        case .free: return
        case .regularFile:
            if overwrite { return }
            throw ImageIOError(path: path, message: "file exists; pass --overwrite to replace it",
                               kind: .outputExists(appearedMeanwhile: false), side: .output)
        case .folder:
            throw ImageIOError(path: path, message: "is a folder (or a link to one), so the output file cannot "
                               + "be written there", kind: .outputNotRegular, side: .output)
        case .refused(let why):
            throw ImageIOError(path: path, message: why, kind: .outputNotRegular, side: .output)
        }
    }

    /// mkstemp in `directory`, then flock: the lock marks the file as having a live writer. A run
    /// removing stale temporaries may have removed the name between the two calls (it saw no
    /// lock); then the name no longer leads to the locked file, and another one is made.
    private static func createLockedTemporary(in directory: String, for path: String) throws -> (Int32, String) {
        for _ in 0..<8 {
            var template = "\(directory)/\(AtomicFile.temporaryNamePrefix)XXXXXX".pathCString
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else {
                throw ImageIOError(path: path, message: "cannot create a temporary file in \(directory): \(errnoText())", side: .output)
            }
            let tempPath = template.withUnsafeBufferPointer { String(pathCString: $0.baseAddress!) }
            // A filesystem without locks (ENOLCK, EOPNOTSUPP) is written without one; the cleanup
            // there goes by the process id in the name.
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            var opened = stat(), named = stat()
            if fstat(fd, &opened) == 0, lstat(tempPath.pathCString, &named) == 0,
               opened.st_dev == named.st_dev, opened.st_ino == named.st_ino {
                return (fd, tempPath)
            }
            close(fd)
        }
        throw ImageIOError(path: path, message: "cannot keep a temporary file in \(directory): another process "
                           + "removed each one made", side: .output)
    }

    deinit { discard() }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path.pathCString, &status) == 0
    }

    func commit() throws {
        guard !done else { return }
        done = true
        var failure: ImageIOError?
        func fail(_ message: String, _ kind: ImageIOError.Kind = .other) {
            if failure == nil { failure = ImageIOError(path: name, message: message, kind: kind, side: .output) }
        }
        if fflush(file) != 0 || ferror(file) != 0 { fail("write failed: \(errnoText())") }
        if failure == nil && overwrite { keepModeOfReplacedFile() }
        if failure == nil && fsync(fileno(file)) != 0 { fail("fsync failed: \(errnoText())") }
        if fclose(file) != 0 { fail("close failed: \(errnoText())") }
        if failure == nil {
            if overwrite {
                // Checked again here: a device, FIFO or link made at the name since the write
                // began is not replaced either.
                do {
                    try Self.checkTarget(name, overwrite: true)
                } catch let error as ImageIOError {
                    fail(error.message, error.kind)
                } catch {}
                if failure == nil && rename(tempPath.pathCString, name.pathCString) != 0 {
                    fail("cannot rename the temporary file into place: \(errnoText())")
                }
            } else {
                switch Self.moveWithoutReplacing(tempPath, to: name) {
                case .moved: break
                case .targetExists:
                    fail("file appeared meanwhile (another process created it while this one was being written); "
                         + "it was left as it is", .outputExists(appearedMeanwhile: true))
                case .failed(let code):
                    fail("cannot move the temporary file into place: \(errnoText(code))")
                }
            }
        }
        if failure != nil { unlink(tempPath.pathCString) }
        close(lockHolder)
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
        if let failure { throw failure }
    }

    /// With `overwrite`: give the new file the permission bits of the regular file it replaces.
    private func keepModeOfReplacedFile() {
        var status = stat()
        guard lstat(name.pathCString, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
        _ = fchmod(fileno(file), status.st_mode & 0o777)
    }

    enum MoveOutcome: Equatable {
        case moved, targetExists
        case failed(Int32)  // errno
    }

    /// renameat2 is declared only with _GNU_SOURCE, which Swift's Glibc module does not define:
    /// look it up by name (glibc 2.28 and later) and call it through a C function pointer.
    private typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameat2: Renameat2? = dlsym(nil, "renameat2").map { unsafeBitCast($0, to: Renameat2.self) }
    private static let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, <linux/fs.h>

    /// Moves `source` to `target` only if `target` does not exist, atomically: two processes
    /// racing for one target cannot both succeed. `useRenameat2: false` tests the fallback.
    static func moveWithoutReplacing(_ source: String, to target: String, useRenameat2: Bool = true) -> MoveOutcome {
        if useRenameat2, let renameat2 {
            if renameat2(AT_FDCWD, source.pathCString, AT_FDCWD, target.pathCString, renameNoReplace) == 0 { return .moved }
            let code = errno
            // EINVAL: this filesystem does not support the flag; ENOSYS: nor the kernel.
            guard code == EINVAL || code == ENOSYS else { return code == EEXIST ? .targetExists : .failed(code) }
        }
        // link() refuses an existing name; the temporary name is then unlinked.
        if link(source.pathCString, target.pathCString) == 0 {
            unlink(source.pathCString)
            return .moved
        }
        let code = errno
        guard code == EPERM || code == ENOTSUP || code == ENOSYS else {
            return code == EEXIST ? .targetExists : .failed(code)
        }
        // No hard links here either (FAT, some FUSE filesystems): check, then rename. Not atomic;
        // the last resort.
        if exists(target) { return .targetExists }
        return rename(source.pathCString, target.pathCString) == 0 ? .moved : .failed(errno)
    }

    func discard() {
        guard !done else { return }
        done = true
        fclose(file)
        unlink(tempPath.pathCString)
        close(lockHolder)
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
    }
}
