import Foundation
import Testing
@testable import UpscaleKit

/// A small valid y model (x2): 3×3 conv-like layer with PReLU, then a 4×4 stride-2 deconv.
func smallModel(metadata: [String: String] = ["name": "small", "license": "CC0-1.0"]) throws -> Model {
    var rng = SeededRandom(seed: 42)
    let layers = [
        ModelLayer(weight: Tensor(shape: [1, 4, 3, 3], data: rng.floats(36)), bias: Tensor(shape: [4], data: rng.floats(4)),
                   padding: (1, 1), activation: .prelu(rng.floats(4, 0...0.3))),
        ModelLayer(weight: Tensor(shape: [4, 1, 4, 4], data: rng.floats(64)), bias: Tensor(shape: [1], data: [0.25]),
                   stride: (2, 2), padding: (1, 1), activation: .leakyReLU(0.1)),
    ]
    return try Model(layers: layers, scale: 2, channels: .y, residual: .bicubic, metadata: metadata)
}

/// The JSON header and data of a serialized model, to corrupt and reassemble.
struct FileParts {
    var header: [String: Any]
    var data: [UInt8]

    init(_ bytes: [UInt8]) {
        let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)]))) as? [String: Any] ?? [:]
        data = Array(bytes[(8 + n)...])
    }

    var metadata: [String: String] {
        get { header["__metadata__"] as? [String: String] ?? [:] }
        set { header["__metadata__"] = newValue }
    }

    /// The `layers` metadata as JSON objects.
    var layerSpecs: [[String: Any]] {
        get { (try? JSONSerialization.jsonObject(with: Data(metadata["layers", default: "[]"].utf8))) as? [[String: Any]] ?? [] }
        set { metadata["layers"] = String(decoding: try! JSONSerialization.data(withJSONObject: newValue, options: [.sortedKeys]), as: UTF8.self) }
    }

    func bytes() -> [UInt8] {
        let json = [UInt8](try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        return withHeader(json)
    }

    func withHeader(_ json: [UInt8]) -> [UInt8] {
        let n = UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + json + data
    }

    mutating func setTensor(_ name: String, _ entry: [String: Any]?) { header[name] = entry }
    func tensor(_ name: String) -> [String: Any] { header[name] as? [String: Any] ?? [:] }
}

@Suite struct ModelFileTests {
    @Test(arguments: ModelTensorType.allCases)
    func writeThenLoadGivesTheSameModel(dtype: ModelTensorType) throws {
        let model = try smallModel()
        let path = temporaryModelPath("roundtrip.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.write(to: path, dtype: dtype)
        let loaded = try Model.load(path: path)
        #expect(loaded.scale == 2 && loaded.channels == .y && loaded.residual == .bicubic)
        #expect(loaded.metadata == ["name": "small", "license": "CC0-1.0"])
        #expect(loaded.layers.count == 2)
        let tolerance: Float = dtype == .f32 ? 0 : (dtype == .f16 ? 1e-3 : 8e-3)
        for (a, b) in zip(model.layers, loaded.layers) {
            #expect(a.weight.shape == b.weight.shape)
            #expect(allClose(b.weight.data, a.weight.data, rtol: tolerance, atol: 0).ok)
            #expect(allClose(b.bias!.data, a.bias!.data, rtol: tolerance, atol: 0).ok)
            #expect(a.stride == b.stride && a.padding == b.padding && a.outputPadding == b.outputPadding)
            #expect(a.dilation == b.dilation && a.groups == b.groups)
        }
        if case .prelu(let s) = loaded.layers[0].activation, case .prelu(let t) = model.layers[0].activation {
            #expect(allClose(s, t, rtol: tolerance, atol: 0).ok)
        } else {
            Issue.record("layer 0 activation is \(loaded.layers[0].activation)")
        }
        #expect(loaded.layers[1].activation == .leakyReLU(0.1))
    }

    @Test func fileIsPlainSafetensorsWithTheSpecifiedHeader() throws {
        let bytes = try smallModel().serialized()
        let parts = FileParts(bytes)
        let n = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(n % 8 == 0 && bytes.count == 8 + n + 4 * (36 + 4 + 4 + 64 + 1))
        #expect(parts.metadata["format"] == "upscale.convt-stack/1")
        #expect(parts.metadata["scale"] == "2" && parts.metadata["channels"] == "y" && parts.metadata["residual"] == "bicubic")
        #expect(parts.metadata["layers"] == #"[{"activation":"prelu","dilation":[1,1],"groups":1,"output_padding":[0,0],"padding":[1,1],"stride":[1,1]},{"activation":{"leaky_relu":0.1},"dilation":[1,1],"groups":1,"output_padding":[0,0],"padding":[1,1],"stride":[2,2]}]"#)
        #expect(parts.tensor("layers.0.weight")["shape"] as? [Int] == [1, 4, 3, 3])
        #expect(parts.tensor("layers.0.weight")["data_offsets"] as? [Int] == [0, 144])
        #expect(parts.tensor("layers.0.prelu")["dtype"] as? String == "F32")
        // The first weight, little-endian float32 at the start of the data.
        let w0 = try smallModel().layers[0].weight.data[0]
        #expect(Array(parts.data[0..<4]) == (0..<4).map { UInt8(truncatingIfNeeded: w0.bitPattern >> (8 * UInt32($0))) })
    }

    @Test func statistics() throws {
        let model = try smallModel()
        #expect(model.parameterCount == 36 + 4 + 4 + 64 + 1)
        // Layer 0 runs on every input pixel (36 MACs), layer 1 too (64 MACs); 4 output pixels per input pixel.
        #expect(model.macsPerOutputPixel == Double(36 + 64) / 4)
        // 3×3 p1 needs 1 pixel; the 4×4 s2 p1 deconv output block [2t, 2t+2) needs inputs t−1…t+1: 1 more.
        #expect(model.receptiveHalo == 2)
    }
}
