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
            throw ImageIOError(path: name, message: "cannot read: \(text)", kind: .cannotRead)
        }
        rewind(file)
    }

    deinit {
        if let file { fclose(file) }
    }

    /// Opens a file; refuses directories, empty files and what cannot be opened.
    static func open(path: String) throws -> InputSource {
        guard let file = fopen(path.pathCString, "rb") else {
            throw ImageIOError(path: path, message: "cannot open: \(errnoText())", kind: .cannotRead)
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
    // @unchecked: `base` is written once, in init, and only read after; freed in deinit.
    let base: UnsafeMutableRawPointer   // (count) bytes from malloc, owned
    public let count: Int

    /// A copy of `bytes` (already in memory: like any array copy, a failed allocation traps).
    public convenience init(_ bytes: [UInt8]) {
        guard let base = malloc(max(1, bytes.count)) else { preconditionFailure("out of memory copying \(bytes.count) bytes") }
        bytes.withUnsafeBytes { if let from = $0.baseAddress { base.copyMemory(from: from, byteCount: bytes.count) } }
        self.init(base: base, count: bytes.count)
    }

    /// Takes ownership of `base`, memory from malloc.
    init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { free(base) }

    /// A read of a file descriptor that failed, with its errno.
    public struct ReadFailure: Error {
        public var code: Int32
    }

    /// The encoded image at the start of `descriptor` (stdin: 0), read through its last byte and
    /// not much further (ImageBytes+Stream.swift): the bytes after it (a second image, zeros) are
    /// never read, so `cat photo.png /dev/zero | upscale -` ends.
    /// - Throws: `ReadFailure` when a read fails (a folder on stdin, an I/O error);
    ///   `ImageIOError` of kind `.overMemoryBudget`, naming `name`, when the image takes more than
    ///   `limit` bytes.
    public static func readImage(descriptor: Int32, name: String, limit: Int) throws -> ImageBytes {
        let buffer = try ImageStreamBuffer(descriptor: descriptor, name: name, limit: limit)
        try buffer.readImage()
        let (base, count) = buffer.take()
        return ImageBytes(base: base, count: count)
    }
}
