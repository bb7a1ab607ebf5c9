// Writing the model file (the format's definition by its writer; the reader checks it).
// Layout: see Model+Safetensors.swift and docs/model-format.md. Tensors are written in layer order
// (weight, bias, prelu), contiguous, in PyTorch's layout; the header is padded with spaces to a
// multiple of 8 bytes, as the safetensors library does.

import Foundation

extension Model {
    /// The model as a safetensors file, with tensors stored as `dtype` (rounded to nearest even).
    /// - Throws: `ModelError` when a value does not fit `dtype` (e.g. above 65504 in F16).
    public func serialized(dtype: ModelTensorType = .f32) throws -> [UInt8] {
        if let graph { return try graph.serialized(dtype: dtype) }
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        var layerSpecs: [[String: Any]] = []
        for (i, layer) in layers.enumerated() {
            tensors.append(("layers.\(i).weight", layer.weight.shape, layer.weight.data))
            if let bias = layer.bias { tensors.append(("layers.\(i).bias", bias.shape, bias.data)) }
            let spec = LayerSpec.json(layer)
            if case .prelu(let slopes) = layer.activation { tensors.append(("layers.\(i).prelu", [slopes.count], slopes)) }
            layerSpecs.append(spec)
        }
        let source = metadata["name"] ?? "<model>"
        let layersJSON = try JSONSerialization.data(withJSONObject: layerSpecs, options: [.sortedKeys])
        var meta = ModelFileHeader.metadata(metadata, format: Model.formatName, scale: scale, channels: channels,
                                            residual: residual)
        if inputPadding > 0 { meta["input_padding"] = String(inputPadding) }
        meta["layers"] = String(decoding: layersJSON, as: UTF8.self)

        return try safetensorsBytes(tensors: tensors, metadata: meta, dtype: dtype, source: source)
    }

    /// Writes `serialized(dtype:)` to `path`.
    public func write(to path: String, dtype: ModelTensorType = .f32) throws {
        let bytes = try serialized(dtype: dtype)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw ModelError("\(path): cannot write the model file (does the folder exist, is it writable?)", path: path)
        }
    }
}

extension LayerSpec {
    /// The layers entry of `layer` (its PReLU slopes, if any, are a tensor the caller writes).
    static func json(_ layer: ModelLayer) -> [String: Any] {
        var spec: [String: Any] = [
            "stride": [layer.stride.0, layer.stride.1],
            "padding": [layer.padding.0, layer.padding.1],
            "output_padding": [layer.outputPadding.0, layer.outputPadding.1],
            "dilation": [layer.dilation.0, layer.dilation.1],
            "groups": layer.groups,
        ]
        if case .leakyReLU(let slope) = layer.activation {
            spec["activation"] = ["leaky_relu": jsonNumber(slope)]
        } else {
            spec["activation"] = layer.activation.fileName
        }
        return spec
    }

    /// The activations a file names by a string alone, for the reader (prelu's slopes come from
    /// its tensor); leaky_relu is written `{"leaky_relu": slope}`.
    static let namedActivations: [Activation] = [.none, .relu, .prelu([]), .sigmoid, .tanh, .silu]
}

extension Activation {
    /// The activation's name in a model file's `activation` entry: the one table of names, read
    /// back through `LayerSpec.namedActivations`.
    var fileName: String {
        switch self {
        case .none: return "none"
        case .relu: return "relu"
        case .leakyReLU: return "leaky_relu"
        case .prelu: return "prelu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .silu: return "silu"
        }
    }
}

/// A float as the JSON number whose shortest text reads back as the same float.
func jsonNumber(_ v: Float) -> Double { Double(String(v)) ?? Double(v) }

/// A safetensors file of `tensors` (contiguous, in the given order) and `metadata`, tensors stored
/// as `dtype` (rounded to nearest even); the header padded with spaces to a multiple of 8 bytes.
/// - Throws: `ModelError` when a value does not fit `dtype`.
func safetensorsBytes(tensors: [(name: String, shape: [Int], values: [Float])], metadata meta: [String: String],
                      dtype: ModelTensorType, source: String) throws -> [UInt8] {
    var header: [String: Any] = ["__metadata__": meta]
    var data: [UInt8] = []
    for t in tensors {
        let begin = data.count
        for v in t.values {
            switch dtype {
            case .f32:
                let bits = v.bitPattern
                for k in 0..<4 { data.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
            case .f16:
                let h = Float16(v)
                guard h.isFinite else { throw ModelError("\(source): tensor \"\(t.name)\" has value \(v), which does not fit F16") }
                let bits = h.bitPattern
                data.append(UInt8(truncatingIfNeeded: bits)); data.append(UInt8(truncatingIfNeeded: bits >> 8))
            case .bf16:
                let bits = roundToBFloat16(v)
                data.append(UInt8(truncatingIfNeeded: bits)); data.append(UInt8(truncatingIfNeeded: bits >> 8))
            }
        }
        header[t.name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [begin, data.count]] as [String: Any]
    }
    var headerBytes = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out: [UInt8] = []
    out.reserveCapacity(8 + headerBytes.count + data.count)
    let n = UInt64(headerBytes.count)
    for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(k)))) }
    out += headerBytes
    out += data
    return out
}

/// Float32 → BFloat16 bits, rounding to nearest even (NaN stays NaN).
func roundToBFloat16(_ v: Float) -> UInt16 {
    let bits = v.bitPattern
    if v.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
}
