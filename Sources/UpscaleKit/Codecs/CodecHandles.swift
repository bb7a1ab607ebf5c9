// Owners of the C codec objects: each frees its handle in deinit, so every exit path, thrown
// initializers included, releases it exactly once.
import CJPEG
import CPNG
#if canImport(Glibc)
import Glibc
#endif

/// A libpng read struct; also keeps the input (and its fmemopen buffer) alive until after the
/// struct, which closes the FILE*, is destroyed.
final class PNGReadHandle {
    let pointer: UnsafeMutablePointer<cpng_reader>
    private let source: InputSource

    init(source: InputSource) throws {
        let file = source.takeFile()
        guard let pointer = cpng_reader_create(file) else {
            source.giveBack(file)
            throw ImageIOError(path: source.name, message: "cannot initialise libpng (out of memory?)")
        }
        self.pointer = pointer
        self.source = source
    }

    deinit { cpng_reader_destroy(pointer) }

    var message: String { cText(&pointer.pointee.error.message, orElse: "unknown libpng error") }
    var warnings: String { cText(&pointer.pointee.error.warnings, orElse: "") }
}

/// A libpng write struct (the FILE* belongs to the output sink).
final class PNGWriteHandle {
    let pointer: UnsafeMutablePointer<cpng_writer>

    init(file: UnsafeMutablePointer<FILE>, name: String) throws {
        guard let pointer = cpng_writer_create(file) else {
            throw ImageIOError(path: name, message: "cannot initialise libpng (out of memory?)")
        }
        self.pointer = pointer
    }

    deinit { cpng_writer_destroy(pointer) }

    var message: String { cText(&pointer.pointee.error.message, orElse: "unknown libpng error") }
    var warnings: String { cText(&pointer.pointee.error.warnings, orElse: "") }
}

/// A libjpeg decompress object; keeps the input alive like `PNGReadHandle`.
final class JPEGReadHandle {
    let pointer: UnsafeMutablePointer<cjpeg_reader>
    private let source: InputSource

    init(source: InputSource) throws {
        let file = source.takeFile()
        guard let pointer = cjpeg_reader_create(file) else {
            source.giveBack(file)
            throw ImageIOError(path: source.name, message: "cannot initialise libjpeg (out of memory?)")
        }
        self.pointer = pointer
        self.source = source
    }

    deinit { cjpeg_reader_destroy(pointer) }

    var message: String { cText(&pointer.pointee.error.message, orElse: "unknown libjpeg error") }
    var warnings: String { cText(&pointer.pointee.error.warnings, orElse: "") }
}

/// A libjpeg compress object (the FILE* belongs to the output sink).
final class JPEGWriteHandle {
    let pointer: UnsafeMutablePointer<cjpeg_writer>

    init(file: UnsafeMutablePointer<FILE>, name: String) throws {
        guard let pointer = cjpeg_writer_create(file) else {
            throw ImageIOError(path: name, message: "cannot initialise libjpeg (out of memory?)")
        }
        self.pointer = pointer
    }

    deinit { cjpeg_writer_destroy(pointer) }

    var message: String { cText(&pointer.pointee.error.message, orElse: "unknown libjpeg error") }
    var warnings: String { cText(&pointer.pointee.error.warnings, orElse: "") }
}

/// A NUL-terminated C char array field (imported as a tuple) as a String.
func cText<T>(_ field: inout T, orElse fallback: String) -> String {
    let text = withUnsafePointer(to: &field) {
        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
    }
    return text.isEmpty ? fallback : text
}
