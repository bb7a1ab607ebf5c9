// Where encoders write: a FILE* with a way to commit or drop what was written. The atomic file
// write is AtomicFile.swift; here, an in-memory buffer (open_memstream) and a spool handed on
// whole once complete (a temporary file: stdout gets all of an image or nothing).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// Where an encoder's bytes go: a FILE* plus how to commit or throw the result away.
protocol OutputSink: AnyObject {
    var name: String { get }
    var file: UnsafeMutablePointer<FILE> { get }
    /// Flushes and makes the output final. Throws when any byte did not make it.
    func commit() throws
    /// Removes every trace of the output; safe to call more than once.
    func discard()
    /// Called after each band: a file whose commit waits for the disk starts writing what it has
    /// (AtomicWrite); the others do nothing.
    func startWriteback()
}

extension OutputSink {
    func startWriteback() {}

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
            throw ImageIOError(path: name, message: "cannot open a memory stream: \(errnoText())", side: .output)
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
        if failed { throw ImageIOError(path: name, message: "writing to memory failed", side: .output) }
    }

    func discard() {
        guard !closed else { return }
        closed = true
        fclose(file)
        free(buffer.pointee)
        buffer.pointee = nil
    }
}

/// Bytes spooled into an anonymous temporary file (tmpfile(3), removed by the system when it is
/// closed), handed on whole once committed: the writer of an image for stdout, which must not
/// see half an image when the upscale fails at row 9000, nor hold the encoded image in memory.
final class SpooledOutput: OutputSink {
    let name: String
    let file: UnsafeMutablePointer<FILE>
    private var closed = false
    private var committed = false

    init(name: String) throws {
        self.name = name
        guard let file = tmpfile() else {
            throw ImageIOError(path: name, message: "cannot create a temporary file to spool the image: \(errnoText())", side: .output)
        }
        self.file = file
    }

    deinit { discard() }

    func commit() throws {
        guard !closed else { return }
        if let failure = writeFailure ?? (fflush(file) != 0 ? errnoText() : nil) {
            discard()
            throw ImageIOError(path: name, message: "cannot spool the image to a temporary file: \(failure)", side: .output)
        }
        committed = true
    }

    func discard() {
        guard !closed else { return }
        closed = true
        fclose(file)
    }

    /// Hands the committed bytes to `consume`, 1 MiB at a time, in order; then closes the spool.
    func drain(into consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        precondition(committed && !closed, "drain a committed spool once")
        defer { discard() }
        rewind(file)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let got = fread(chunk.baseAddress, 1, chunk.count, file)
            if got > 0 { try consume(UnsafeRawBufferPointer(rebasing: chunk[0..<got])) }
            if got < chunk.count {
                if ferror(file) != 0 {
                    throw ImageIOError(path: name, message: "cannot read the spooled image back: \(errnoText())", side: .output)
                }
                return
            }
        }
    }
}
