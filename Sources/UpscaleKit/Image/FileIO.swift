// FILE* plumbing under the codecs: an input opened from a path or from bytes (fmemopen), and
// outputs that are either an atomic file write or an in-memory buffer (open_memstream).
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
    private var memory: UnsafeMutableRawPointer?  // (count) bytes behind an fmemopen FILE*

    private init(name: String, file: UnsafeMutablePointer<FILE>, memory: UnsafeMutableRawPointer?) throws {
        self.name = name
        self.file = file
        self.memory = memory
        var head = [UInt8](repeating: 0, count: 8)
        let got = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 8, file) }
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
        memory?.deallocate()
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

    /// Reads from a private copy of `bytes`.
    static func memory(_ bytes: [UInt8], name: String) throws -> InputSource {
        guard !bytes.isEmpty else { throw ImageIOError(path: name, message: "no data (0 bytes)") }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        guard let file = fmemopen(memory, bytes.count, "rb") else {
            memory.deallocate()
            throw ImageIOError(path: name, message: "cannot read from memory: \(errnoText())")
        }
        return try InputSource(name: name, file: file, memory: memory)
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

/// Where an encoder's bytes go: a FILE* plus how to commit or throw the result away.
protocol OutputSink: AnyObject {
    var name: String { get }
    var file: UnsafeMutablePointer<FILE> { get }
    /// Flushes and makes the output final. Throws when any byte did not make it.
    func commit() throws
    /// Removes every trace of the output; safe to call more than once.
    func discard()
}

extension OutputSink {
    /// The system's reason for a failed write on `file` ("File too large", "No space left on
    /// device"), or nil when no write failed. Read it before `discard()`, which changes errno.
    var writeFailure: String? { ferror(file) != 0 ? errnoText() : nil }
}

/// Bytes in memory (open_memstream).
final class MemoryOutput: OutputSink {
    let name: String
    let file: UnsafeMutablePointer<FILE>
    private let buffer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>  // written by glibc on flush/close
    private let size: UnsafeMutablePointer<Int>
    private var closed = false
    private(set) var bytes: [UInt8] = []

    init(name: String) throws {
        self.name = name
        buffer = .allocate(capacity: 1)
        buffer.initialize(to: nil)
        size = .allocate(capacity: 1)
        size.initialize(to: 0)
        guard let file = open_memstream(buffer, size) else {
            buffer.deallocate()
            size.deallocate()
            throw ImageIOError(path: name, message: "cannot open a memory stream: \(errnoText())")
        }
        self.file = file
    }

    deinit {
        discard()
        buffer.deallocate()
        size.deallocate()
    }

    func commit() throws {
        guard !closed else { return }
        closed = true
        let failed = ferror(file) != 0
        fclose(file)
        if let data = buffer.pointee {
            bytes = data.withMemoryRebound(to: UInt8.self, capacity: size.pointee) {
                Array(UnsafeBufferPointer(start: $0, count: size.pointee))
            }
            free(data)
            buffer.pointee = nil
        }
        if failed { throw ImageIOError(path: name, message: "writing to memory failed") }
    }

    func discard() {
        guard !closed else { return }
        closed = true
        fclose(file)
        free(buffer.pointee)
        buffer.pointee = nil
    }
}
