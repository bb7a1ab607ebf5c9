// The file-system calls the library makes by path, on the path's bytes (PathBytes.swift):
// Foundation's FileManager takes a path's String as UTF-8, so it cannot open `caf\xe9.png`, and
// its folder listing leaves such names out. Each function is one POSIX call (or a loop of them);
// a failure is a `FileSystem.Failure` with the errno, in this one layer.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public enum FileSystem {
    /// A call on `path` that failed, with its errno.
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var code: Int32
        public var description: String { "\(path): \(String(cString: strerror(code)))" }
    }

    /// What `stat` (following symbolic links) or `lstat` (not) says of `path`; nil when it fails.
    public static func status(_ path: String, followingLinks: Bool = true) -> stat? {
        var status = stat()
        let result = followingLinks ? stat(path.pathCString, &status) : lstat(path.pathCString, &status)
        return result == 0 ? status : nil
    }

    /// True when `path` names something, following symbolic links (a dangling link: false).
    public static func exists(_ path: String) -> Bool {
        status(path) != nil
    }

    /// True when `path` names a folder, or a symbolic link to one.
    public static func isFolder(_ path: String) -> Bool {
        status(path).map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
    }

    /// The size in bytes of what `path` names, following symbolic links; nil when it cannot be read.
    public static func size(_ path: String) -> Int? {
        status(path).map { Int($0.st_size) }
    }

    /// The names in the folder `path`, in the order the system gives them, without `.` and `..`.
    public static func names(inFolder path: String) throws -> [String] {
        guard let folder = opendir(path.pathCString) else { throw Failure(path: path, code: errno) }
        defer { closedir(folder) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(folder) else {
                if errno != 0 { throw Failure(path: path, code: errno) }
                return names
            }
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(pathCString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// The canonical absolute path with symbolic links resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path.pathCString, nil) else { return nil }
        defer { free(resolved) }
        return String(pathCString: resolved)
    }

    /// Creates the folder `path` and any missing folder above it (`mkdir -p`), with 0777 minus the
    /// umask. A folder already there is fine; anything else there is a failure (EEXIST, ENOTDIR).
    public static func createFolders(_ path: String) throws {
        let bytes = path.pathBytes
        // Every prefix that ends just before a `/`, then the whole path.
        var ends = bytes.indices.filter { $0 > 0 && bytes[$0] == UInt8(ascii: "/") && bytes[$0 - 1] != UInt8(ascii: "/") }
        ends.append(bytes.count)
        for end in ends {
            let prefix = String(pathBytes: bytes[0..<end])
            if isFolder(prefix) { continue }
            if mkdir(prefix.pathCString, 0o777) != 0 {
                let code = errno
                if code == EEXIST && isFolder(prefix) { continue }  // made meanwhile by another process
                throw Failure(path: prefix, code: code)
            }
        }
    }

    /// Every byte of the file `path` (or its first `limit`), or nil when it cannot be opened or read.
    public static func contents(_ path: String, upTo limit: Int = .max) -> [UInt8]? {
        let fd = open(path.pathCString, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let want = min(chunk.count, limit - bytes.count)
            if want == 0 { return bytes }
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if got < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }
}
