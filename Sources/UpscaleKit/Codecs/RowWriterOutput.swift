// What the PNG and JPEG band writers share: the library's write object over the output sink, the
// rows written so far, and the writer's lifecycle (open, then finished or failed), which decides
// whether the sink is committed or discarded.

/// A band writer's output: the sink, the libpng/libjpeg object writing into it, and the rows
/// written. Only `finish` commits the sink; a failed library call, rows missing at `finish`,
/// `abort()` or dropping the output unfinished (deinit) discards it, so a writer whose initializer
/// throws after making its output leaves nothing behind. A band or packed rows that do not fit
/// are refused without closing the writer. Errors name the sink's file.
final class RowWriterOutput<State: CodecState> {
    private let sink: OutputSink
    private let handle: CodecHandle<State>
    let height: Int
    private(set) var rowsWritten = 0
    /// "PNG", "JPEG": for "PNG writer is closed".
    private let format: String
    private var failed = false
    private var finished = false

    /// Makes the library's object over the sink's FILE* (`create`, freed by `destroy`) for an image
    /// of `height` rows; when it cannot, the sink is discarded.
    init(sink: OutputSink, format: String, height: Int, create: CodecHandle<State>.Create,
         destroy: @escaping CodecHandle<State>.Destroy) throws {
        do {
            handle = try CodecHandle(writing: sink.file, path: sink.name, create: create, destroy: destroy)
        } catch {
            sink.discard()
            throw error
        }
        self.sink = sink
        self.format = format
        self.height = height
    }

    deinit {
        if !finished { sink.discard() }
    }

    var pointer: UnsafeMutablePointer<State> { handle.pointer }
    /// The library's fatal error.
    var message: String { handle.message }
    var path: String { sink.name }
    var rowsLeft: Int { height - rowsWritten }

    /// Throws unless rows may still be written: the writer has neither failed nor finished.
    func checkOpen() throws {
        guard !failed && !finished else { throw ImageIOError(path: path, message: "\(format) writer is closed", side: .output) }
    }

    /// Throws unless `byteCount` bytes are `rows` packed rows of `rowBytes` bytes that fit in the rows left.
    func checkPacked(byteCount: Int, rows: Int, rowBytes: Int) throws {
        guard rows <= rowsLeft, byteCount == rows * rowBytes else {
            throw ImageIOError(path: path, message: "\(byteCount) bytes for \(rows) packed rows of \(rowBytes) "
                               + "bytes, \(rowsLeft) rows left", side: .output)
        }
    }

    /// Hands `rows` rows of `samples` (`rows × rowBytes` bytes) to `library`, one pointer per row
    /// into `samples` itself, and adds them; when `library` returns false, the output fails with
    /// `what`. The pointers are mutable only because the C prototypes say so: libpng copies each
    /// row into its own buffer before any transform or filter (png_write_row), and libjpeg reads
    /// the rows into its colour converter's buffers (jpeg_write_scanlines); neither writes them.
    /// (A copy made them writable before: a band's whole samples, 50 MB of fresh memory at ×4.)
    func writeRows(_ samples: [UInt8], rows: Int, orFail what: String,
                   through library: (inout [UnsafeMutablePointer<UInt8>?]) -> Bool) throws {
        let rowBytes = samples.count / rows
        let ok = samples.withUnsafeBufferPointer { bytes -> Bool in
            let first = UnsafeMutablePointer(mutating: bytes.baseAddress!)
            var pointers: [UnsafeMutablePointer<UInt8>?] = (0..<rows).map { first + $0 * rowBytes }
            return library(&pointers)
        }
        try addRows(rows, ifWritten: ok, orFail: what)
    }

    /// Adds `rows` rows when the library call that wrote them succeeded (`ok`), and lets the sink
    /// start writing them to the disk; otherwise the output fails with `what`.
    func addRows(_ rows: Int, ifWritten ok: Bool, orFail what: String) throws {
        guard ok else { throw fail(what) }
        rowsWritten += rows
        sink.startWriteback()
    }

    /// Fails the output (discarding the sink) and returns the error to throw: `what`, the library's
    /// message, and the system's reason when a write failed ("No space left on device").
    func fail(_ what: String) -> ImageIOError {
        let reason = sink.writeFailure.map { " (\($0))" } ?? ""   // before discard(), which changes errno
        failed = true
        sink.discard()
        return ImageIOError(path: path, message: "\(what): \(message)\(reason)", side: .output)
    }

    /// Once every row is written, `end` writes the file's end (false: the library failed, and the
    /// output fails with `what`) and the sink is committed: the file appears. Returns the library's
    /// warnings as notes ("libpng: …"), none when it had none.
    func finish(orFail what: String, end: () -> Bool) throws -> [WriterNote] {
        try checkOpen()
        guard rowsWritten == height else {
            failed = true
            sink.discard()
            throw ImageIOError(path: path, message: "only \(rowsWritten) of \(height) rows were written", side: .output)
        }
        guard end() else { throw fail(what) }
        finished = true
        try sink.commit()
        let warnings = handle.warnings
        return warnings.isEmpty ? [] : [WriterNote(.libraryWarning, "\(State.ErrorRecord.library): \(warnings)")]
    }

    /// Drops the output: the sink is discarded and the writer is closed.
    func abort() {
        failed = true
        sink.discard()
    }
}
