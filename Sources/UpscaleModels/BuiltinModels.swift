// The built-in models: models/*.bin, compiled into the binary by the CBuiltinModels target
// (`#embed`, see its header). The bytes are static read-only data; a model is read from them
// directly, with no decoding step.
import CBuiltinModels

/// The models embedded in the binary, by name (`x2` for `models/x2.bin`).
public enum BuiltinModels {
    /// Names of the embedded models, sorted.
    public static var names: [String] { table.map { String(cString: $0.name) } }

    /// The weights file bytes of the built-in model `name`, or nil when there is none.
    public static func bytes(named name: String) -> [UInt8]? {
        table.first { String(cString: $0.name) == name }.map { [UInt8](UnsafeRawBufferPointer(start: $0.bytes, count: $0.count)) }
    }

    /// The C table (sorted by name), read where it lies: the entries and the bytes they point to
    /// are read-only data of the binary, valid for the life of the process.
    private static var table: UnsafeBufferPointer<cbuiltin_model> {
        var count = 0
        return UnsafeBufferPointer(start: cbuiltin_models(&count), count: count)
    }
}
