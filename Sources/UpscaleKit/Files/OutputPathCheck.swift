// What is at an output path before it is written, as the output rules see it (docs/cli.md,
// "Writing files"): outputs are regular files, written to a temporary file and renamed into place.
// rename() replaces whatever name it lands on, so anything else found there is refused whatever
// the flags: a device node (`-o /dev/null` as root would replace the device), a FIFO (its reader
// would wait forever), a socket, and a symbolic link, which is neither written through nor
// replaced (`-o /dev/stdout` is a link to /proc/self/fd/1: replacing it breaks /dev; writing
// through it is what `-o -` is for). A folder is the planner's own case (a folder output puts the
// default name in it).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum OutputPathState: Equatable, Sendable {
    /// Nothing there (lstat: ENOENT).
    case free
    /// A regular file: the existing-output policy decides (refuse, overwrite, skip).
    case regularFile
    /// A folder, or a symbolic link to one.
    case folder
    /// Something no flag lets upscale replace or write through; the text says what it is and what
    /// to do, as a predicate to follow the path: "is a FIFO (named pipe), not a regular file; …".
    case refused(String)

    /// Looks at `path` without following a final symbolic link (lstat), then at the link's target.
    /// `image`: the output is an image, which `-o -` writes to stdout (said for /dev and /proc paths).
    public static func of(_ path: String, image: Bool = true) -> OutputPathState {
        var status = stat()
        guard lstat(path.pathCString, &status) == 0 else { return .free }  // ENOENT, or unreadable: the write will say
        let type = status.st_mode & S_IFMT
        if type == S_IFREG { return .regularFile }
        if type == S_IFDIR { return .folder }
        // /dev/stdout, /dev/fd/1, /proc/self/fd/1: what `-o -` is for.
        let special = image && (path.hasPrefix("/dev/") || path.hasPrefix("/proc/"))
        let stdoutHint = special ? " To write the image to stdout, pass -o -." : ""
        if type == S_IFLNK {
            let target = linkTarget(path) ?? "?"
            var targetStatus = stat()
            guard stat(path.pathCString, &targetStatus) == 0 else {
                return .refused("is a symbolic link to \(target), which does not exist; upscale neither "
                    + "replaces a link nor writes through it. Remove the link, or pass -o with another name.\(stdoutHint)")
            }
            if targetStatus.st_mode & S_IFMT == S_IFDIR { return .folder }
            return .refused("is a symbolic link to \(target), \(describe(targetStatus.st_mode)); upscale neither "
                + "replaces a link nor writes through it, whatever the flags."
                + (special ? stdoutHint : " Pass -o with the path of the file itself, or remove the link."))
        }
        return .refused("is \(describe(status.st_mode)), not a regular file; upscale writes only regular "
            + "files and never replaces anything else, whatever the flags.\(stdoutHint)")
    }

    /// "a character device", "a FIFO (named pipe)"...: a file type, in words.
    static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a folder"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
    }

    /// The text of the symbolic link at `path`, as stored.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink(path.pathCString, &buffer, 4096)
        guard count >= 0 else { return nil }
        return String(pathBytes: buffer[0..<count].map { UInt8(bitPattern: $0) })
    }
}
