import Foundation
import Testing
@testable import UpscaleKit

/// A safetensors file built without any validation, so tests can write files the Swift writer refuses.
func rawSafetensors(metadata: [String: String]?, tensors: [(name: String, shape: [Int], values: [Float])],
                    dtype: String = "F32") -> [UInt8] {
    var header: [String: Any] = [:]
    if let metadata { header["__metadata__"] = metadata }
    var data: [UInt8] = []
    for t in tensors {
        let begin = data.count
        for v in t.values { data += (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
        header[t.name] = ["dtype": dtype, "shape": t.shape, "data_offsets": [begin, data.count]] as [String: Any]
    }
    let json = [UInt8](try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) } + json + data
}

/// Every way a model file can be bad, with words its error message must contain (besides the file name).
enum BadFile: String, CaseIterable, Sendable {
    case truncated, headerPastEnd, headerAbsurd, headerNotJSON, noMetadata, missingFormat, unknownFormat,
         metadataNotString, badScale, unknownChannels, layersNotJSON, offsetsPastData, offsetsBackwards,
         sizeMismatch, overlap, unsupportedDtype, unexpectedTensor, missingWeight, chainMismatch,
         firstLayerChannels, lastLayerChannels, biasLength, preluLength, preluMissing, nanWeight, infBias,
         tooManyLayers, kernelTooLarge, channelsTooLarge, hugeShape, geometryOffset, geometrySlope,
         unknownActivation, unknownLayerKey, badStride, groupsNotDividing

    /// Tensors of the valid small model (layer 0: 1→4, 3×3, PReLU; layer 1: 4→1, 4×4 stride 2).
    static func tensors() -> [(name: String, shape: [Int], values: [Float])] {
        var rng = SeededRandom(seed: 5)
        return [("layers.0.weight", [1, 4, 3, 3], rng.floats(36)), ("layers.0.bias", [4], rng.floats(4)),
                ("layers.0.prelu", [4], rng.floats(4, 0...0.3)),
                ("layers.1.weight", [4, 1, 4, 4], rng.floats(64)), ("layers.1.bias", [1], [0.5])]
    }

    static let layers0 = #"{"stride":[1,1],"padding":[1,1],"output_padding":[0,0],"groups":1,"dilation":[1,1],"activation":"prelu"}"#
    static let layers1 = #"{"stride":[2,2],"padding":[1,1],"output_padding":[0,0],"groups":1,"dilation":[1,1],"activation":"none"}"#

    static func metadata() -> [String: String] {
        ["format": "upscale.convt-stack/1", "scale": "2", "channels": "y", "residual": "bicubic",
         "layers": "[\(layers0),\(layers1)]", "name": "bad"]
    }

    static func file(metadata edit: (inout [String: String]) -> Void = { _ in },
                     tensors editTensors: (inout [(name: String, shape: [Int], values: [Float])]) -> Void = { _ in },
                     dtype: String = "F32") -> [UInt8] {
        var m = metadata(); edit(&m)
        var t = tensors(); editTensors(&t)
        return rawSafetensors(metadata: m, tensors: t, dtype: dtype)
    }

    /// Replaces the JSON header of `bytes` (a valid file) by `header`, keeping the data.
    static func withHeader(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) -> [UInt8] {
        var parts = FileParts(bytes)
        edit(&parts.header)
        return parts.bytes()
    }

    func bytes() -> [UInt8] {
        let valid = BadFile.file()
        switch self {
        case .truncated: return Array(valid[0..<5])
        case .headerPastEnd: return Array(valid[0..<(valid.count - FileParts(valid).data.count - 3)])
        case .headerAbsurd: return [0, 0, 0, 0, 0, 1, 0, 0] + Array(valid[8...])
        case .headerNotJSON: return FileParts(valid).withHeader(Array("{\"__metadata__\": nope".utf8))
        case .noMetadata: return BadFile.withHeader(valid) { $0["__metadata__"] = nil }
        case .missingFormat: return BadFile.file(metadata: { $0["format"] = nil })
        case .unknownFormat: return BadFile.file(metadata: { $0["format"] = "upscale.convt-stack/9" })
        case .metadataNotString: return BadFile.withHeader(valid) { h in
            var m = h["__metadata__"] as! [String: Any]; m["scale"] = 2; h["__metadata__"] = m }
        case .badScale: return BadFile.file(metadata: { $0["scale"] = "two" })
        case .unknownChannels: return BadFile.file(metadata: { $0["channels"] = "rgba" })
        case .layersNotJSON: return BadFile.file(metadata: { $0["layers"] = "[{\"stride\": " })
        case .offsetsPastData: return BadFile.withHeader(valid) { h in
            var e = h["layers.1.bias"] as! [String: Any]; e["data_offsets"] = [432, 440]; h["layers.1.bias"] = e }
        case .offsetsBackwards: return BadFile.withHeader(valid) { h in
            var e = h["layers.1.bias"] as! [String: Any]; e["data_offsets"] = [432, 428]; h["layers.1.bias"] = e }
        case .sizeMismatch: return BadFile.withHeader(valid) { h in
            var e = h["layers.0.bias"] as! [String: Any]; e["shape"] = [5]; h["layers.0.bias"] = e }
        case .overlap: return BadFile.withHeader(valid) { h in
            var e = h["layers.0.bias"] as! [String: Any]; e["data_offsets"] = [100, 116]; h["layers.0.bias"] = e }
        case .unsupportedDtype: return BadFile.file(dtype: "F64")
        case .unexpectedTensor: return BadFile.file(tensors: { $0.append(("extra", [1], [1])) })
        case .missingWeight: return BadFile.file(tensors: { $0.removeAll { $0.name == "layers.1.weight" } })
        case .chainMismatch: return BadFile.file(tensors: { $0[3] = ("layers.1.weight", [3, 1, 4, 4], [Float](repeating: 0.1, count: 48)) })
        case .firstLayerChannels: return BadFile.file(metadata: { $0["channels"] = "rgb" })
        case .lastLayerChannels: return BadFile.file(tensors: {
            $0[3] = ("layers.1.weight", [4, 3, 4, 4], [Float](repeating: 0.1, count: 192)); $0[4] = ("layers.1.bias", [3], [0, 0, 0]) })
        case .biasLength: return BadFile.file(tensors: { $0[1] = ("layers.0.bias", [5], [1, 2, 3, 4, 5]) })
        case .preluLength: return BadFile.file(tensors: { $0[2] = ("layers.0.prelu", [3], [0.1, 0.1, 0.1]) })
        case .preluMissing: return BadFile.file(tensors: { $0.remove(at: 2) })
        case .nanWeight: return BadFile.file(tensors: { $0[3].values[7] = .nan })
        case .infBias: return BadFile.file(tensors: { $0[1].values[2] = -.infinity })
        case .tooManyLayers: return BadFile.file(metadata: { $0["layers"] = "[" + Array(repeating: BadFile.layers1, count: 65).joined(separator: ",") + "]" })
        case .kernelTooLarge: return BadFile.file(tensors: { $0[3] = ("layers.1.weight", [4, 1, 33, 33], [Float](repeating: 0, count: 4 * 33 * 33)) })
        case .channelsTooLarge: return BadFile.withHeader(valid) { h in
            var e = h["layers.0.weight"] as! [String: Any]; e["shape"] = [1, 5000, 3, 3]; h["layers.0.weight"] = e }
        case .hugeShape: return BadFile.withHeader(valid) { h in
            var e = h["layers.0.weight"] as! [String: Any]; e["shape"] = [4096, 4096, 32, 32]; h["layers.0.weight"] = e }
        case .geometryOffset: return BadFile.file(metadata: { $0["layers"] = "[\(BadFile.layers0),\(BadFile.layers1.replacingOccurrences(of: "\"padding\":[1,1]", with: "\"padding\":[0,0]"))]" })
        case .geometrySlope: return BadFile.file(metadata: { $0["scale"] = "3" })
        case .unknownActivation: return BadFile.file(metadata: { $0["layers"] = "[\(BadFile.layers0),\(BadFile.layers1.replacingOccurrences(of: "\"none\"", with: "\"gelu\""))]" })
        case .unknownLayerKey: return BadFile.file(metadata: { $0["layers"] = "[\(BadFile.layers0),\(BadFile.layers1.replacingOccurrences(of: "groups", with: "group"))]" })
        case .badStride: return BadFile.file(metadata: { $0["layers"] = "[\(BadFile.layers0),\(BadFile.layers1.replacingOccurrences(of: "\"stride\":[2,2]", with: "\"stride\":[0,2]"))]" })
        case .groupsNotDividing: return BadFile.file(metadata: { $0["layers"] = "[\(BadFile.layers0),\(BadFile.layers1.replacingOccurrences(of: "\"groups\":1", with: "\"groups\":3"))]" })
        }
    }

    /// Words the message must contain.
    var expected: [String] {
        switch self {
        case .truncated: return ["truncated"]
        case .headerPastEnd: return ["header length", "past the end"]
        case .headerAbsurd: return ["header length", "limit"]
        case .headerNotJSON: return ["not a JSON object"]
        case .noMetadata: return ["__metadata__", "format"]
        case .missingFormat: return ["no \"format\""]
        case .unknownFormat: return ["unknown format", "upscale.convt-stack/9"]
        case .metadataNotString: return ["\"scale\"", "not a string"]
        case .badScale: return ["scale \"two\""]
        case .unknownChannels: return ["channels \"rgba\""]
        case .layersNotJSON: return ["layers", "not a JSON array"]
        case .offsetsPastData: return ["layers.1.bias", "outside the data"]
        case .offsetsBackwards: return ["layers.1.bias", "outside the data"]
        case .sizeMismatch: return ["layers.0.bias", "[5]", "hold 16 bytes"]
        case .overlap: return ["layers.0.bias", "overlaps", "layers.0.weight"]
        case .unsupportedDtype: return ["unsupported dtype F64"]
        case .unexpectedTensor: return ["unexpected tensor \"extra\""]
        case .missingWeight: return ["layers.1.weight", "missing"]
        case .chainMismatch: return ["layer 1", "3 input channels", "layer 0 outputs 4"]
        case .firstLayerChannels: return ["layer 0", "reads 1 channels", "\"rgb\""]
        case .lastLayerChannels: return ["layer 1", "writes 3 channels"]
        case .biasLength: return ["layer 0", "bias", "[5]", "expected [4]"]
        case .preluLength: return ["layer 0", "prelu has 3 slopes"]
        case .preluMissing: return ["layers.0.prelu", "missing"]
        case .nanWeight: return ["layers.1.weight", "NaN or infinite", "index 7"]
        case .infBias: return ["layers.0.bias", "NaN or infinite"]
        case .tooManyLayers: return ["65 layers", "limit of 64"]
        case .kernelTooLarge: return ["layers.1.weight", "kernel 33×33", "limit of 32"]
        case .channelsTooLarge: return ["layers.0.weight", "5000", "above 4096"]
        case .hugeShape: return ["layers.0.weight", "[4096, 4096, 32, 32]"]
        case .geometryOffset: return ["height", "2·n + 2", "not 2·n"]
        case .geometrySlope: return ["2·n", "not 3·n"]
        case .unknownActivation: return ["layer 1", "unknown activation \"gelu\""]
        case .unknownLayerKey: return ["layer 1", "unknown key \"group\""]
        case .badStride: return ["layer 1", "stride [0, 2]"]
        case .groupsNotDividing: return ["layer 1", "not divisible by groups 3"]
        }
    }
}

@Suite struct ModelBadFileTests {
    @Test func theUntouchedFileLoads() throws {
        let model = try Model(bytes: BadFile.file(), name: "good.bin")
        #expect(model.scale == 2 && model.layers.count == 2)
    }

    @Test(arguments: BadFile.allCases)
    func badFileIsRefusedWithAClearMessage(_ bad: BadFile) throws {
        let path = temporaryModelPath("bad-\(bad.rawValue).bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bad.bytes())))
        do {
            _ = try Model.load(path: path)
            Issue.record("\(bad) loaded")
        } catch let error as ModelError {
            #expect(error.message.hasPrefix(path + ": "), "\(error.message)")
            for word in bad.expected {
                #expect(error.message.contains(word), "\(bad): \"\(word)\" not in: \(error.message)")
            }
        }
    }

    @Test func missingFileAndOversizedFileAreRefusedBeforeReading() throws {
        #expect(throws: ModelError.self) { try Model.load(path: "/nonexistent/x2.bin") }
        let path = temporaryModelPath("huge.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(ModelLimits.maxFileBytes) + 1)  // sparse: no disk used
        try handle.close()
        do {
            _ = try Model.load(path: path)
            Issue.record("a file over 1 GiB loaded")
        } catch let error as ModelError {
            #expect(error.message.contains(path) && error.message.contains("limit of 1073741824 bytes"), "\(error.message)")
        }
    }

    @Test func builderValidatesLikeTheLoader() throws {
        let w = Tensor(shape: [1, 1, 3, 3], data: [Float](repeating: 0.1, count: 9))
        #expect(throws: ModelError.self) {
            try Model(layers: [ModelLayer(weight: w, padding: (0, 0))], scale: 1, channels: .y, residual: .none, metadata: [:])
        }
        #expect(throws: ModelError.self) {
            try Model(layers: [ModelLayer(weight: w, padding: (1, 1))], scale: 1, channels: .y, residual: .none, metadata: ["format": "x"])
        }
        _ = try Model(layers: [ModelLayer(weight: w, padding: (1, 1))], scale: 1, channels: .y, residual: .none, metadata: [:])
    }
}
