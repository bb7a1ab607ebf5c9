// Where codecs read from: a FILE* opened from a path or over bytes in memory (fmemopen), and
// those bytes, read once and shared.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// A FILE* open for reading. A codec reader takes the FILE* (and closes it); this object keeps
/// the fmemopen buffer alive until the reader that uses it is gone.
final class InputSource {
    let name: String
    /// The first bytes, for format sniffing.
    let head: [UInt8]
    private var file: UnsafeMutablePointer<FILE>?
    private let memory: ImageBytes?  // the bytes behind an fmemopen FILE*, kept alive with it

    private init(name: String, file: UnsafeMutablePointer<FILE>, memory: ImageBytes?) throws {
        self.name = name
        self.file = file
        self.memory = memory
        var head = [UInt8](repeating: 0, count: 12)  // WebP: "RIFF", size, "WEBP"
        let got = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 12, file) }
        self.head = Array(head[0..<got])
        if ferror(file) != 0 {
            let text = errnoText()
            fclose(file)
            self.file = nil
            throw ImageIOError(path: name, message: "cannot read: \(text)")
        }
        rewind(file)
    }

    deinit {
        if let file { fclose(file) }
    }

    /// Opens a file; refuses directories, empty files and what cannot be opened.
    static func open(path: String) throws -> InputSource {
        guard let file = fopen(path, "rb") else {
            throw ImageIOError(path: path, message: "cannot open: \(errnoText())")
        }
        var status = stat()
        if fstat(fileno(file), &status) == 0 {
            if (status.st_mode & S_IFMT) == S_IFDIR {
                fclose(file)
                throw ImageIOError(path: path, message: "is a directory, not an image file")
            }
            if (status.st_mode & S_IFMT) == S_IFREG && status.st_size == 0 {
                fclose(file)
                throw ImageIOError(path: path, message: "file is empty (0 bytes)")
            }
        }
        return try InputSource(name: path, file: file, memory: nil)
    }

    /// Reads from `bytes` (not copied; every reader on them shares them).
    static func memory(_ bytes: ImageBytes, name: String) throws -> InputSource {
        guard bytes.count > 0 else { throw ImageIOError(path: name, message: "no data (0 bytes)") }
        guard let file = fmemopen(bytes.base, bytes.count, "rb") else {
            throw ImageIOError(path: name, message: "cannot read from memory: \(errnoText())")
        }
        return try InputSource(name: name, file: file, memory: bytes)
    }

    /// Hands the FILE* to a codec reader, which closes it from now on.
    func takeFile() -> UnsafeMutablePointer<FILE>? {
        defer { file = nil }
        return file
    }

    /// Takes the FILE* back when the codec reader could not be created.
    func giveBack(_ file: UnsafeMutablePointer<FILE>?) {
        self.file = file
    }
}

/// An encoded image in memory, read once (e.g. from stdin) and shared by every reader opened on
/// it, without copies. Immutable once made.
public final class ImageBytes: @unchecked Sendable {
    let base: UnsafeMutableRawPointer   // (count) bytes, owned
    public let count: Int

    /// A copy of `bytes`.
    public convenience init(_ bytes: [UInt8]) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 16)
        bytes.withUnsafeBytes { if let from = $0.baseAddress { base.copyMemory(from: from, byteCount: bytes.count) } }
        self.init(base: base, count: bytes.count)
    }

    private init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { base.deallocate() }

    /// A read of a file descriptor that failed, with its errno.
    public struct ReadFailure: Error {
        public var code: Int32
    }

    /// Every byte until the end of `descriptor` (stdin: 0), read into one buffer grown as it fills.
    /// - Throws: `ReadFailure` when a read fails (a folder on stdin, an I/O error).
    public static func readAll(descriptor: Int32) throws -> ImageBytes {
        var capacity = 1 << 20
        var count = 0
        guard var base = malloc(capacity) else { throw ReadFailure(code: ENOMEM) }
        while true {
            if count == capacity {
                capacity *= 2
                guard let grown = realloc(base, capacity) else {
                    free(base)
                    throw ReadFailure(code: ENOMEM)
                }
                base = grown
            }
            let got = read(descriptor, base + count, capacity - count)
            if got < 0 {
                if errno == EINTR { continue }
                let code = errno
                free(base)
                throw ReadFailure(code: code)
            }
            if got == 0 { break }
            count += got
        }
        // Into memory this class owns (allocate/deallocate), the exact size.
        let owned = UnsafeMutableRawPointer.allocate(byteCount: max(1, count), alignment: 16)
        owned.copyMemory(from: base, byteCount: count)
        free(base)
        return ImageBytes(base: owned, count: count)
    }
}
