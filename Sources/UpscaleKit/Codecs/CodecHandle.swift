// The owner of a C codec object (cpng_reader, cpng_writer, cjpeg_reader, cjpeg_writer): it frees
// the object in deinit, so every exit path, thrown initializers included, releases it exactly once.
import CJPEG
import CPNG
#if canImport(Glibc)
import Glibc
#endif

/// One libpng or libjpeg object, made over a FILE* by its shim's `_create` and freed by its
/// `_destroy`. A read handle also keeps the input (and its fmemopen buffer) alive until after the
/// object, which closes the FILE*, is destroyed; a write handle's FILE* belongs to the output sink.
final class CodecHandle<State: CodecState> {
    typealias Create = (UnsafeMutablePointer<FILE>?) -> UnsafeMutablePointer<State>?
    typealias Destroy = (UnsafeMutablePointer<State>?) -> Void

    let pointer: UnsafeMutablePointer<State>
    private let destroy: Destroy
    private let source: InputSource?

    /// A read handle: the object takes the input's FILE* (given back when it cannot be made).
    init(reading source: InputSource, create: Create, destroy: @escaping Destroy) throws {
        let file = source.takeFile()
        guard let pointer = create(file) else {
            source.giveBack(file)
            throw Self.cannotCreate(path: source.name)
        }
        self.pointer = pointer
        self.destroy = destroy
        self.source = source
    }

    /// A write handle over an output sink's FILE*; `path` names the output in errors.
    init(writing file: UnsafeMutablePointer<FILE>, path: String, create: Create, destroy: @escaping Destroy) throws {
        guard let pointer = create(file) else { throw Self.cannotCreate(path: path) }
        self.pointer = pointer
        self.destroy = destroy
        source = nil
    }

    deinit { destroy(pointer) }

    /// The library's fatal error.
    var message: String {
        let message = pointer.pointee.error.texts().message
        return message.isEmpty ? "unknown \(State.ErrorRecord.library) error" : message
    }

    /// The library's warnings so far, "; "-joined (empty when none).
    var warnings: String { pointer.pointee.error.texts().warnings }

    private static func cannotCreate(path: String) -> ImageIOError {
        ImageIOError(path: path, message: "cannot initialise \(State.ErrorRecord.library) (out of memory?)")
    }
}

/// A shim's codec object, whose `error` record its library's callbacks fill in.
protocol CodecState {
    associatedtype ErrorRecord: CodecErrorRecord
    var error: ErrorRecord { get set }
}

extension cpng_reader: CodecState {}
extension cpng_writer: CodecState {}
extension cjpeg_reader: CodecState {}
extension cjpeg_writer: CodecState {}

/// A shim's error record (cpng_error, cjpeg_error): the fatal error and the warnings, as C strings.
protocol CodecErrorRecord {
    /// The library that fills it in: "libpng", "libjpeg".
    static var library: String { get }
    mutating func texts() -> (message: String, warnings: String)
}

extension cpng_error: CodecErrorRecord {
    static let library = "libpng"
    mutating func texts() -> (message: String, warnings: String) { (cText(&message, orElse: ""), cText(&warnings, orElse: "")) }
}

extension cjpeg_error: CodecErrorRecord {
    static let library = "libjpeg"
    mutating func texts() -> (message: String, warnings: String) { (cText(&message, orElse: ""), cText(&warnings, orElse: "")) }
}

/// A NUL-terminated C char array field (imported as a tuple) as a String.
func cText<T>(_ field: inout T, orElse fallback: String) -> String {
    let text = withUnsafePointer(to: &field) {
        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
    }
    return text.isEmpty ? fallback : text
}
