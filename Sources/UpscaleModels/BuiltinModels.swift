// The built-in models: models/*.bin, compiled into the binary by the CBuiltinModels target
// (`#embed`, see its header). The bytes are static read-only data; a model is read from them
// directly, with no decoding step.
import CBuiltinModels

/// The models embedded in the binary, by name (`x2` for `models/x2.bin`).
public enum BuiltinModels {
    /// Names of the embedded models, sorted.
    public static var names: [String] { entries.map(\.name) }

    /// The weights file bytes of the built-in model `name`, or nil when there is none.
    public static func bytes(named name: String) -> [UInt8]? {
        entries.first { $0.name == name }.map { [UInt8]($0.bytes) }
    }

    /// (name, bytes) of each embedded model, in the C table's order (sorted by name). The buffers
    /// point into the binary's read-only data, valid for the life of the process.
    private static let entries: [(name: String, bytes: UnsafeRawBufferPointer)] = {
        var count = 0
        guard let table = cbuiltin_models(&count) else { return [] }
        return UnsafeBufferPointer(start: table, count: count).map {
            (String(cString: $0.name), UnsafeRawBufferPointer(start: $0.bytes, count: $0.count))
        }
    }()
}
