// Reading the model file: safetensors, by hand (see docs/model-format.md).
//
//   bytes 0..<8        header length N, UInt64 little-endian
//   bytes 8..<8+N      JSON object: "__metadata__" → {string: string}, and per tensor
//                      name → {"dtype": "F32"|"F16"|"BF16", "shape": [..], "data_offsets": [begin, end]}
//   bytes 8+N..<end    the data; offsets are relative to its start, tensors are little-endian, row-major
//
// Everything in the header is checked (names, dtypes, shapes against ModelLimits, offsets inside the
// data and not overlapping) before a single tensor is decoded, so a hostile file cannot make us
// allocate more than the file itself.

import Foundation

/// Element types a model file may store; all are converted to Float32 when loaded.
public enum ModelTensorType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    public var byteCount: Int { self == .f32 ? 4 : 2 }
}

extension Model {
    /// The value of `__metadata__.format` this reader understands.
    public static let formatName = "upscale.convt-stack/1"

    /// Reads a model file; `threads` workers build its layers' plans (repacked weights).
    /// - Throws: `ModelError` naming the file, the tensor or layer, and the problem.
    public static func load(path: String, threads: Int = 1) throws -> Model {
        guard let size = FileSystem.size(path) else {
            throw ModelError("\(path): cannot read the model file (does it exist, is it readable?)", path: path)
        }
        // Another kind of file (a large .pth, an image) is named as such before its size is held against it.
        if let head = FileSystem.contents(path, upTo: 16) {
            if let what = ForeignFileSniff.describe(head[...]) {
                throw ModelError("\(path) \(what).", kind: .otherFormat, path: path)
            }
        }
        guard size <= ModelLimits.maxFileBytes else {
            throw ModelError("\(path): the file is \(size) bytes, more than the limit of \(ModelLimits.maxFileBytes) bytes for a model", path: path)
        }
        guard let bytes = FileSystem.contents(path) else {
            throw ModelError("\(path): cannot read the model file", path: path)
        }
        return try Model(bytes: bytes, name: path, threads: threads)
    }

    /// Reads a model from the bytes of a file; `name` stands for the file in error messages.
    /// `threads` workers build its layers' plans.
    public convenience init(bytes: [UInt8], name: String, threads: Int = 1) throws {
        if SafetensorsFile.format(of: bytes) == GraphModel.formatName {
            try self.init(graph: try GraphModel(bytes: bytes, name: name, threads: threads))
            return
        }
        let file = try SafetensorsFile(bytes: bytes, name: name)
        try self.init(layers: file.layers, scale: file.scale, channels: file.channels, residual: file.residual,
                      inputPadding: file.inputPadding, metadata: file.metadata, source: name, threads: threads)
    }
}

/// The parsed contents of a model file.
struct SafetensorsFile {
    var scale = 1
    var channels = ModelChannels.rgb
    var residual = ModelResidual.none
    var inputPadding = 0
    var metadata: [String: String] = [:]
    var layers: [ModelLayer] = []

    /// One header entry, checked: element count and byte range are consistent.
    struct Entry {
        var name: String
        var dtype: ModelTensorType
        var shape: [Int]
        var begin: Int, end: Int
    }

    init(bytes: [UInt8], name: String) throws {
        func fail(_ what: String) -> ModelError { ModelError("\(name): \(what)", path: name) }
        let file = try ModelFileHeader(bytes, name: name, format: Model.formatName,
                                       understood: "\"\(Model.formatName)\" and \"\(GraphModel.formatName)\"", fail: fail)
        let (header, headerEnd, strings) = (file.header, file.dataStart, file.strings)
        (scale, channels, residual) = (file.scale, file.channels, file.residual)
        let paddingText = strings["input_padding"] ?? "0"
        guard let inputPadding = Int(paddingText), (0...ModelLimits.maxInputPadding).contains(inputPadding) else {
            throw fail("__metadata__ input_padding \"\(paddingText)\" is not an integer between 0 and \(ModelLimits.maxInputPadding)")
        }
        self.inputPadding = inputPadding
        guard let layersText = strings["layers"] else { throw fail("__metadata__ has no \"layers\" entry") }
        let specs = try LayerSpec.parseList(layersText, fail: fail)
        metadata = strings.filter { !Model.structuralKeys.contains($0.key) }

        // Tensor entries: every one checked before any is decoded.
        let dataStart = headerEnd
        let dataCount = bytes.count - dataStart
        var entries: [String: Entry] = [:]
        for (tensorName, value) in header.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        where tensorName != "__metadata__" {
            let entry = try SafetensorsFile.entry(tensorName, value, layerCount: specs.count, dataCount: dataCount, fail: fail)
            entries[tensorName] = entry
        }
        let sorted = entries.values.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var reach: Entry? = nil  // the entry reaching furthest so far
        for b in sorted where b.end > b.begin {
            if let a = reach, b.begin < a.end {
                throw fail("tensor \"\(b.name)\" (bytes \(b.begin)..<\(b.end)) overlaps tensor \"\(a.name)\" (bytes \(a.begin)..<\(a.end))")
            }
            if reach.map({ b.end > $0.end }) ?? true { reach = b }
        }

        for (i, spec) in specs.enumerated() {
            guard let weightEntry = entries["layers.\(i).weight"] else {
                throw fail("layer \(i): tensor \"layers.\(i).weight\" is missing (the layers list has \(specs.count) layers)")
            }
            guard weightEntry.shape.count == 4 else {
                throw fail("tensor \"layers.\(i).weight\" has shape \(weightEntry.shape), expected 4 dims (Cin, Cout/groups, kH, kW)")
            }
            let weight = try SafetensorsFile.decode(weightEntry, bytes, dataStart, fail: fail)
            let bias = try entries["layers.\(i).bias"].map { e -> Tensor in
                guard e.shape.count == 1 else { throw fail("tensor \"\(e.name)\" has shape \(e.shape), expected (Cout)") }
                return try SafetensorsFile.decode(e, bytes, dataStart, fail: fail)
            }
            var activation = spec.activation
            let preluEntry = entries["layers.\(i).prelu"]
            if case .prelu = spec.activation {
                guard let e = preluEntry else {
                    throw fail("layer \(i) has activation \"prelu\" but tensor \"layers.\(i).prelu\" is missing")
                }
                guard e.shape.count == 1 else { throw fail("tensor \"\(e.name)\" has shape \(e.shape), expected (Cout) or (1)") }
                activation = .prelu(try SafetensorsFile.decode(e, bytes, dataStart, fail: fail).data)
            } else if preluEntry != nil {
                throw fail("tensor \"layers.\(i).prelu\" is present but layer \(i)'s activation is not \"prelu\"")
            }
            layers.append(ModelLayer(weight: weight, bias: bias, stride: spec.stride, padding: spec.padding,
                                     outputPadding: spec.outputPadding, dilation: spec.dilation,
                                     groups: spec.groups, activation: activation))
        }
    }

    /// `__metadata__.format` of a well-formed file, else nil (the full reader says what is wrong).
    static func format(of bytes: [UInt8]) -> String? {
        let header = try? SafetensorsFile.header(bytes) { ModelError($0) }
        return (header?.header["__metadata__"] as? [String: Any])?["format"] as? String
    }

    /// The header's JSON object and where the data starts, with the length checks of the format.
    static func header(_ bytes: [UInt8], fail: (String) -> ModelError) throws -> (header: [String: Any], dataStart: Int) {
        guard bytes.count <= ModelLimits.maxFileBytes else {
            throw fail("the file is \(bytes.count) bytes, more than the limit of \(ModelLimits.maxFileBytes) bytes for a model")
        }
        guard bytes.count >= 8 else {
            throw fail("the file is truncated: \(bytes.count) bytes, but a safetensors file starts with an 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(ModelLimits.maxHeaderBytes) else {
            throw fail("the header length \(headerLength) is larger than the limit of \(ModelLimits.maxHeaderBytes) bytes (not a safetensors file?)")
        }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw fail("the header length \(headerLength) runs past the end of the file (\(bytes.count) bytes): the file is truncated or not safetensors")
        }
        let headerEnd = 8 + Int(headerLength)
        let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        guard let header = json as? [String: Any] else {
            throw fail("the header is not a JSON object (not a safetensors file, or a corrupted one)")
        }
        return (header, headerEnd)
    }

    /// Checks one header entry against the name scheme, dtypes, limits and the data size.
    /// `prefix` is "layers" (a stack: layers.{i}.…) or "nodes" (a graph: nodes.{i}.…).
    static func entry(_ name: String, _ value: Any, layerCount: Int, dataCount: Int, prefix: String = "layers",
                      fail: (String) -> ModelError) throws -> Entry {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == prefix, let index = Int(parts[1]), String(index) == parts[1],
              ["weight", "bias", "prelu"].contains(parts[2]) else {
            throw fail("unexpected tensor \"\(name)\" (expected \(prefix).{i}.weight, \(prefix).{i}.bias, \(prefix).{i}.prelu)")
        }
        guard index < layerCount else {
            let unit = prefix == "layers" ? "layer" : "node"
            throw fail("tensor \"\(name)\" belongs to \(unit) \(index), but the \(prefix) list has only \(layerCount) \(prefix)")
        }
        guard let info = value as? [String: Any] else { throw fail("tensor \"\(name)\": header entry is not a JSON object") }
        guard let dtypeText = info["dtype"] as? String else { throw fail("tensor \"\(name)\" has no \"dtype\"") }
        guard let dtype = ModelTensorType(rawValue: dtypeText) else {
            throw fail("tensor \"\(name)\" has unsupported dtype \(dtypeText) (supported: F32, F16, BF16)")
        }
        guard let shapeList = info["shape"] as? [Any], let shape = intList(shapeList) else {
            throw fail("tensor \"\(name)\" has no valid \"shape\" (a list of integers)")
        }
        guard shape.count <= 4, shape.allSatisfy({ (0...ModelLimits.maxChannels).contains($0) }) else {
            throw fail("tensor \"\(name)\" has shape \(shape): more than 4 dims or a dimension above \(ModelLimits.maxChannels)")
        }
        if parts[2] == "weight", shape.count == 4, shape[2] > ModelLimits.maxKernel || shape[3] > ModelLimits.maxKernel {
            throw fail("tensor \"\(name)\" has kernel \(shape[2])×\(shape[3]), larger than the limit of \(ModelLimits.maxKernel)")
        }
        guard let offsetList = info["data_offsets"] as? [Any], let offsets = intList(offsetList), offsets.count == 2 else {
            throw fail("tensor \"\(name)\" has no valid \"data_offsets\" ([begin, end])")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataCount else {
            throw fail("tensor \"\(name)\" has data_offsets [\(begin), \(end)] outside the data (\(dataCount) bytes after the header): the file is truncated or corrupted")
        }
        let count = Tensor.checkedElementCount(shape) ?? Int.max
        guard count <= (Int.max / 4), count * dtype.byteCount == end - begin else {
            throw fail("tensor \"\(name)\" has shape \(shape) of \(dtypeText) (\(count) × \(dtype.byteCount) bytes) but data_offsets [\(begin), \(end)] hold \(end - begin) bytes")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Decodes a checked entry to Float32 and refuses NaN or infinity.
    static func decode(_ e: Entry, _ bytes: [UInt8], _ dataStart: Int, fail: (String) -> ModelError) throws -> Tensor {
        let count = Tensor.elementCount(e.shape)
        var values = [Float](repeating: 0, count: count)
        let base = dataStart + e.begin
        for i in 0..<count {
            let p = base + i * e.dtype.byteCount
            switch e.dtype {
            case .f32:
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
            case .f16:
                values[i] = Float(Float16(bitPattern: UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8))
            case .bf16:
                values[i] = Float(bitPattern: (UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8) << 16)
            }
            guard values[i].isFinite else {
                throw fail("tensor \"\(e.name)\" has a NaN or infinite value (\(values[i]) at flat index \(i))")
            }
        }
        return Tensor(shape: e.shape, data: values)
    }
}

/// A list of JSON integers, or nil if any element is not an integer.
func intList(_ list: [Any]) -> [Int]? {
    var out: [Int] = []
    for item in list {
        guard let v = jsonInt(item) else { return nil }
        out.append(v)
    }
    return out
}

/// A JSON number that is an integer (booleans are not), or nil.
func jsonInt(_ value: Any) -> Int? {
    if type(of: value) == Bool.self { return nil }
    if let n = value as? NSNumber {
        let d = n.doubleValue
        return d.rounded() == d && abs(d) < 1e15 ? Int(d) : nil
    }
    if let i = value as? Int { return i }
    if let d = value as? Double, d.rounded() == d, abs(d) < 1e15 { return Int(d) }
    return nil
}

/// One object of `__metadata__.layers`.
struct LayerSpec {
    var stride = (1, 1), padding = (0, 0), outputPadding = (0, 0), dilation = (1, 1)
    var groups = 1
    var activation = Activation.none

    static let keys: Set<String> = ["stride", "padding", "output_padding", "groups", "dilation", "activation"]

    static func parseList(_ text: String, fail: (String) -> ModelError) throws -> [LayerSpec] {
        let json = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        guard let list = json as? [Any] else {
            throw fail("__metadata__ layers is not a JSON array (one object per layer)")
        }
        guard !list.isEmpty else { throw fail("__metadata__ layers is empty: the model has no layers") }
        guard list.count <= ModelLimits.maxLayers else {
            throw fail("__metadata__ layers lists \(list.count) layers, more than the limit of \(ModelLimits.maxLayers)")
        }
        return try list.enumerated().map { i, item in
            guard let object = item as? [String: Any] else { throw fail("layer \(i): the layers entry is not a JSON object") }
            return try LayerSpec(object, index: i, fail: fail)
        }
    }

    init(_ object: [String: Any], index i: Int, fail: (String) -> ModelError) throws {
        for key in object.keys.sorted() where !LayerSpec.keys.contains(key) {
            throw fail("layer \(i): unknown key \"\(key)\" in the layers entry (known: \(LayerSpec.keys.sorted().joined(separator: ", ")))")
        }
        func pair(_ key: String, _ fallback: (Int, Int)) throws -> (Int, Int) {
            guard let value = object[key] else { return fallback }
            if let v = jsonInt(value) { return (v, v) }
            if let list = value as? [Any], let v = intList(list), v.count == 2 { return (v[0], v[1]) }
            throw fail("layer \(i): \"\(key)\" must be an integer or a list of two integers")
        }
        stride = try pair("stride", (1, 1))
        padding = try pair("padding", (0, 0))
        outputPadding = try pair("output_padding", (0, 0))
        dilation = try pair("dilation", (1, 1))
        if let g = object["groups"] {
            guard let v = jsonInt(g) else { throw fail("layer \(i): \"groups\" must be an integer") }
            groups = v
        }
        switch object["activation"] {
        case nil: activation = .none
        case let name as String:
            // prelu's slopes come from the tensor layers.{i}.prelu
            guard let named = LayerSpec.namedActivations.first(where: { $0.fileName == name }) else {
                let known = LayerSpec.namedActivations.map(\.fileName) + ["{\"leaky_relu\": slope}"]
                throw fail("layer \(i): unknown activation \"\(name)\" (known: \(known.joined(separator: ", ")))")
            }
            activation = named
        case let dict as [String: Any]:
            guard dict.count == 1, let slopeValue = dict["leaky_relu"] else {
                throw fail("layer \(i): unknown activation \(dict.keys.sorted()) (the only parameterised activation is {\"leaky_relu\": slope})")
            }
            guard type(of: slopeValue) != Bool.self, let slope = (slopeValue as? NSNumber)?.doubleValue ?? (slopeValue as? Double) else {
                throw fail("layer \(i): leaky_relu slope must be a number")
            }
            activation = .leakyReLU(Float(slope))
        default:
            throw fail("layer \(i): unknown activation (expected a string or {\"leaky_relu\": slope})")
        }
    }
}

/// What stack and graph files share at the start of reading: the check for another kind of file,
/// the safetensors header, and `__metadata__`'s entries as strings (in byte order, so that a file
/// gets the same message on every run), its format, scale, channels and residual.
struct ModelFileHeader {
    var header: [String: Any]
    var dataStart: Int
    var strings: [String: String] = [:]
    var scale: Int
    var channels: ModelChannels
    var residual: ModelResidual

    /// `format` is the one this reader takes; `understood` names the formats for the message.
    init(_ bytes: [UInt8], name: String, format expected: String, understood: String,
         fail: (String) -> ModelError) throws {
        if bytes.count <= ModelLimits.maxFileBytes, let what = ForeignFileSniff.describe(bytes[...]) {
            throw ModelError("\(name) \(what).", kind: .otherFormat, path: name)
        }
        (header, dataStart) = try SafetensorsFile.header(bytes, fail: fail)
        guard let rawMetadata = header["__metadata__"] as? [String: Any] else {
            throw fail("the header has no \"__metadata__\" object, so no \"format\": not an upscale model file (expected format \"\(expected)\")")
        }
        for (key, value) in rawMetadata.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            guard let s = value as? String else { throw fail("__metadata__ entry \"\(key)\" is not a string (safetensors metadata values are strings)") }
            strings[key] = s
        }
        guard let format = strings["format"] else {
            throw fail("__metadata__ has no \"format\" entry (expected \"\(expected)\")")
        }
        guard format == expected else {
            throw fail("unknown format \"\(format)\" in __metadata__ (this reader understands \(understood))")
        }
        guard let scaleText = strings["scale"] else { throw fail("__metadata__ has no \"scale\" entry") }
        guard let scale = Int(scaleText), (1...ModelLimits.maxScale).contains(scale) else {
            throw fail("__metadata__ scale \"\(scaleText)\" is not an integer between 1 and \(ModelLimits.maxScale)")
        }
        self.scale = scale
        guard let channelsText = strings["channels"] else { throw fail("__metadata__ has no \"channels\" entry (\"rgb\" or \"y\")") }
        guard let channels = ModelChannels(rawValue: channelsText) else {
            throw fail("__metadata__ channels \"\(channelsText)\" is unknown (expected \"rgb\" or \"y\")")
        }
        self.channels = channels
        let residualText = strings["residual"] ?? "none"
        guard let residual = ModelResidual(rawValue: residualText) else {
            throw fail("__metadata__ residual \"\(residualText)\" is unknown (expected \"none\", \"bicubic\" or \"nearest\")")
        }
        self.residual = residual
    }

    /// The inverse, for the writers: `metadata` with the entries this header reads (`format`,
    /// `scale`, `channels`, `residual`) set.
    static func metadata(_ metadata: [String: String], format: String, scale: Int, channels: ModelChannels,
                         residual: ModelResidual) -> [String: String] {
        var meta = metadata
        meta["format"] = format
        meta["scale"] = String(scale)
        meta["channels"] = channels.rawValue
        meta["residual"] = residual.rawValue
        return meta
    }
}
