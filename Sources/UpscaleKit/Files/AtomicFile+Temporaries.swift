// The temporary files of atomic writes: their names, who owns one, and the cleanup of those whose
// writer is gone (AtomicFile.swift writes and renames them).
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
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

extension AtomicFile {
    /// The start of every temporary name this process makes: `.upscale-HHHHHHHH-PID-`.
    public static var temporaryNamePrefix: String { temporaryNamePrefix(pid: getpid()) }

    static func temporaryNamePrefix(pid: pid_t) -> String { ".upscale-\(hostTag)-\(pid)-" }

    /// mkstemp in `directory`, then flock: the lock marks the file as having a live writer. A run
    /// removing stale temporaries may have removed the name between the two calls (it saw no
    /// lock); then the name no longer leads to the locked file, and another one is made.
    static func createLockedTemporary(in directory: String, for path: String) throws -> (Int32, String) {
        for _ in 0..<8 {
            var template = "\(directory)/\(temporaryNamePrefix)XXXXXX".pathCString
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
}
