#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which file a path names: its device and inode. Two paths name one file exactly when these
/// agree, whatever their spelling (`a.png`, `./a.png`, `../x/a.png`, a symbolic link to it).
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity of the file `path` names, following symbolic links; nil when there is none.
    public init?(path: String) {
        var status = stat()
        guard stat(path.pathCString, &status) == 0 else { return nil }
        self.init(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }
}
