// ncnn `.param` + `.bin` → our model (docs/models.md says which peer models this is for).
//
// Accepted layers and what they become (ncnn parameter ids in brackets):
//   Input                       the image (3 channels)
//   Split                       only of the input, feeding the chain and the residual
//   Convolution                 Conv2d, stride 1: num_output [0], kernel [1, 11], dilation [2, 12],
//                               padding [4 left, 15 right, 14 top, 16 bottom; −233/−234 "same"],
//                               bias [5], weight count [6], fused activation [9, 10]
//   Deconvolution               ConvTranspose2d: the same keys, stride [3, 13], output padding [18, 19]
//   ReLU                        slope [0]: relu, or leaky relu when the slope is not 0
//   PReLU                       num_slope [0]
//   PixelShuffle                factor [0], mode [1] = 0 (PyTorch's order): folded into the conv before it
//   Interp                      nearest [0 = 1], equal integer scales [1, 2]: of the input, the residual
//   BinaryOp                    add [0 = 0]: the chain's output plus the residual, last
// Fused activations [9]: 0 none, 1 relu, 2 leaky relu (slope [10][0]), 4 sigmoid.
//
// The `.bin` holds each layer's blobs in layer order, without headers or padding between layers:
//   Convolution, Deconvolution   weight: a 4-byte tag, then the values: tag 0 → fp32; tag
//                                0x01306B47 → fp16, padded to a multiple of 4 bytes. Then the bias,
//                                raw fp32 (no tag), when [5] = 1.
//   PReLU                        the slopes, raw fp32.
// ncnn keeps Convolution weights as (Cout, Cin, kH, kW) like PyTorch's Conv2d, and Deconvolution
// weights as (Cout, Cin, kH, kW) too, with PyTorch's scatter semantics: PyTorch's ConvTranspose2d
// weight is that with the first two dimensions swapped (checked against ncnn's own CPU run by
// tools/make_import_fixtures.py).

import Foundation

/// What `upscale import` records beside the weights.
public struct ImportOptions: Sendable {
    public var name: String? = nil
    public var license: String? = nil
    public init(name: String? = nil, license: String? = nil) {
        self.name = name
        self.license = license
    }
}

public enum ModelImport {
    static let maxFileBytes = ModelLimits.maxFileBytes

    /// Reads a whole file, refusing one over the model size limit.
    static func read(_ path: String) throws -> [UInt8] {
        guard let size = FileSystem.size(path) else {
            throw ImportError(.unreadable, "\(path): cannot read the file (does it exist, is it readable?)")
        }
        guard size <= maxFileBytes else {
            throw ImportError(.unreadable, "\(path): the file is \(size) bytes, more than the limit of \(maxFileBytes) bytes")
        }
        guard let bytes = FileSystem.contents(path) else {
            throw ImportError(.unreadable, "\(path): cannot read the file")
        }
        return bytes
    }

    /// The `.bin` beside a `.param`: the same path with `.param` replaced by `.bin` (or `.bin` appended).
    public static func defaultBinPath(forParam param: String) -> String {
        param.hasSuffix(".param") ? String(param.dropLast(".param".count)) + ".bin" : param + ".bin"
    }

    /// Imports an ncnn model. `binPath` defaults to `defaultBinPath(forParam:)`.
    /// - Throws: `ImportError` naming the file, the layer and what is supported.
    public static func ncnn(paramPath: String, binPath: String? = nil, options: ImportOptions = .init()) throws -> Model {
        let bin = binPath ?? defaultBinPath(forParam: paramPath)
        let paramBytes = try read(paramPath)
        guard let text = String(bytes: paramBytes, encoding: .utf8) else {
            throw ImportError(.syntax, "\(paramPath): not a text file (ncnn's .param is text; binary .param.bin files are not supported)")
        }
        let lines = try NCNNParam.parse(text, source: paramPath)
        var blobs = NCNNBlobReader(bytes: try read(bin), source: bin)
        if NCNNGraph.needsGraph(lines) {   // a graph (RRDBNet): NCNNGraphImport.swift
            let files = [paramPath, bin].map { ($0 as NSString).lastPathComponent }
            var metadata: [String: String] = [:]
            metadata["name"] = options.name ?? (((paramPath as NSString).lastPathComponent as NSString).deletingPathExtension)
            if let license = options.license { metadata["license"] = license }
            metadata["source"] = files.joined(separator: ", ")
            metadata["description"] = "Imported by `upscale import` from \(files.joined(separator: " and "))."
            let graph = try NCNNGraph.graphModel(lines, blobs: &blobs, source: paramPath, metadata: metadata)
            try blobs.finish()
            return try Model(graph: graph)
        }
        let network = try NCNNGraph.network(lines, blobs: &blobs, source: paramPath)
        try blobs.finish()
        let files = [paramPath, bin].map { ($0 as NSString).lastPathComponent }
        return try assemble(network, files: files, stem: (paramPath as NSString).lastPathComponent, options: options,
                            source: paramPath, architecture: nil)
    }

    /// The model with the metadata `upscale import` records (source files, architecture, noise level).
    static func assemble(_ network: ImportedNetwork, files: [String], stem: String, options: ImportOptions,
                         source: String, architecture: String?) throws -> Model {
        let probe = try network.model(metadata: [:], source: source)
        var metadata: [String: String] = [:]
        metadata["name"] = options.name ?? ((stem as NSString).deletingPathExtension)
        if let license = options.license { metadata["license"] = license }
        metadata["source"] = files.joined(separator: ", ")
        metadata["architecture"] = architecture ?? guessArchitecture(network, probe)
        if let noise = noiseLevel(in: stem) { metadata["noise_level"] = String(noise) }
        metadata["description"] = "Imported by `upscale import` from \(files.joined(separator: " and "))."
        return try network.model(metadata: metadata, source: source)
    }

    /// The published architecture the network's shape matches, or a plain description.
    static func guessArchitecture(_ network: ImportedNetwork, _ model: Model) -> String {
        let shuffles = network.steps.contains { if case .pixelShuffle = $0 { return true }; return false }
        let deconvs = network.steps.filter { if case .deconv = $0 { return true }; return false }.count
        let convs = network.steps.filter { if case .conv = $0 { return true }; return false }.count
        if shuffles && network.nearestResidual != nil { return "SRVGGNetCompact" }
        if model.inputPadding == 7 && convs == 6 && deconvs == 1 && model.scale == 2 { return "upconv_7" }
        if model.inputPadding == 7 && convs == 7 && deconvs == 0 && model.scale == 1 { return "vgg_7" }
        return "convolution stack (\(model.layers.count) layers)"
    }

    /// waifu2x's noise level from a file name such as `noise2_scale2.0x_model.param`, if any.
    static func noiseLevel(in name: String) -> Int? {
        let lower = name.lowercased()
        guard let range = lower.range(of: "noise") else { return nil }
        var digits = ""
        var rest = lower[range.upperBound...]
        if rest.first == "-" || rest.first == "_" { rest = rest.dropFirst() }
        for ch in rest { if ch.isNumber { digits.append(ch) } else { break } }
        return digits.isEmpty ? nil : Int(digits)
    }
}

/// The `.bin` read front to back, every read checked against what is left.
struct NCNNBlobReader {
    static let fp16Tag: UInt32 = 0x0130_6B47
    let bytes: [UInt8]
    let source: String
    private(set) var offset = 0

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func u32(_ p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    private func need(_ count: Int, _ what: String) throws {
        guard count <= bytes.count - offset else {
            throw ImportError(.blobSize, "\(source): \(what) needs \(count) bytes at offset \(offset), but the file ends after \(bytes.count - offset) more (truncated .bin, or a .bin of another .param)")
        }
    }

    /// A tagged weight blob of `count` values (fp32 or fp16).
    mutating func weights(_ count: Int, _ what: String) throws -> [Float] {
        try need(4, what + " (its storage tag)")
        let tag = u32(offset)
        switch tag {
        case 0:
            offset += 4
            return try raw(count, what + " (fp32)")
        case NCNNBlobReader.fp16Tag:
            guard count <= (Int.max - 3) / 2 else { throw ImportError(.blobSize, "\(source): \(what): \(count) values is too many") }
            let size = (count * 2 + 3) / 4 * 4
            try need(4 + size, what + " (fp16)")
            offset += 4
            let start = offset
            offset += size
            return (0..<count).map { i in
                Float(Float16(bitPattern: UInt16(bytes[start + 2 * i]) | UInt16(bytes[start + 2 * i + 1]) << 8))
            }
        case 0x000D_4B38:
            throw ImportError(.unsupported, "\(source): \(what) is stored as int8 (tag 0x000D4B38); supported: fp32 (tag 0) and fp16 (tag 0x01306B47)")
        default:
            throw ImportError(.unsupported, "\(source): \(what) has storage tag 0x\(String(tag, radix: 16, uppercase: true)) at offset \(offset) (quantized, or not the blob the .param announces); supported: fp32 (tag 0) and fp16 (tag 0x01306B47)")
        }
    }

    /// `count` raw little-endian fp32 values (biases, slopes).
    mutating func raw(_ count: Int, _ what: String) throws -> [Float] {
        guard count <= Int.max / 4 else { throw ImportError(.blobSize, "\(source): \(what): \(count) values is too many") }
        try need(4 * count, what)
        let start = offset
        offset += 4 * count
        return (0..<count).map { Float(bitPattern: u32(start + 4 * $0)) }
    }

    /// Refuses bytes left over after the last layer's blobs.
    func finish() throws {
        guard offset == bytes.count else {
            throw ImportError(.blobSize, "\(source): \(bytes.count - offset) bytes are left after the last layer's blobs (offset \(offset) of \(bytes.count)): the .bin does not belong to this .param, or a blob size in the .param is wrong")
        }
    }
}

/// The walk over the layer lines: roles of blobs, the chain, the residual.
enum NCNNGraph {
    static let supported = "Input, Split (of the input), Convolution, Deconvolution, ReLU, PReLU, PixelShuffle, Interp (nearest, of the input), BinaryOp (add, the residual join)"

    private enum Role { case input, chain, upsampled, joined }

    static func network(_ lines: [NCNNLayerLine], blobs: inout NCNNBlobReader, source: String) throws -> ImportedNetwork {
        var walk = Walk(source: source)
        for (index, line) in lines.enumerated() {
            try walk.connect(line, index: index)
            try walk.add(line, index: index, blobs: &blobs)
        }
        return try walk.finish()
    }

    /// The walk's state: each blob's role, the blobs read so far, the chain's last output.
    private struct Walk {
        let source: String
        var network = ImportedNetwork()
        var roles: [String: Role] = [:]
        var consumed: Set<String> = []
        var chainTip: String? = nil
        var joined = false

        init(source: String) { self.source = source }

        func graphError(_ line: NCNNLayerLine, _ what: String) -> ImportError {
            ImportError(.graph, "\(source):\(line.lineNumber): layer \(line.name) (\(line.type)): \(what); supported graphs are one chain from the input, plus a nearest Interp of the input added at the end")
        }

        /// The line's blobs: each one it reads written before and read only here, each one it
        /// writes new.
        mutating func connect(_ line: NCNNLayerLine, index: Int) throws {
            guard line.type == "Input" || index > 0 else {
                throw graphError(line, "the first layer must be the Input")
            }
            for bottom in line.bottoms {
                guard roles[bottom] != nil else { throw graphError(line, "reads blob \(bottom), which no earlier layer writes") }
                guard !consumed.contains(bottom) else { throw graphError(line, "reads blob \(bottom) a second time (only a Split may share a blob)") }
                consumed.insert(bottom)
            }
            for top in line.tops where roles[top] != nil {
                throw graphError(line, "writes blob \(top) a second time")
            }
        }

        /// The layer's part in the network: its steps, or the residual it sets up, by its type.
        mutating func add(_ line: NCNNLayerLine, index: Int, blobs: inout NCNNBlobReader) throws {
            let layer = NCNNLayer(line: line, source: source)
            func expect(_ bottoms: Int, _ tops: Int) throws {
                guard line.bottoms.count == bottoms, line.tops.count == tops else {
                    throw graphError(line, "has \(line.bottoms.count) inputs and \(line.tops.count) outputs, expected \(bottoms) and \(tops)")
                }
            }
            switch line.type {
            case "Input":
                guard index == 0 else { throw graphError(line, "a second Input") }
                try expect(0, 1)
                try layer.allow([0, 1, 2, 11])   // w, h, c, d: only c matters
                let c = try layer.int(2, 0)
                guard c == 0 || c == 3 else { throw layer.unsupported("the input has \(c) channels; supported: 3 (RGB)") }
                roles[line.tops[0]] = .input
            case "Split":
                try expect(1, line.tops.count)
                try layer.allow([])
                guard roles[line.bottoms[0]] == .input, chainTip == nil else {
                    throw graphError(line, "splits a blob other than the input")
                }
                for top in line.tops { roles[top] = .input }
            case "Convolution", "Deconvolution", "ReLU", "PReLU", "PixelShuffle":
                try expect(1, 1)
                guard !joined else { throw graphError(line, "comes after the residual join") }
                let bottom = line.bottoms[0]
                guard chainTip == nil ? roles[bottom] == .input : bottom == chainTip else {
                    throw graphError(line, "reads \(bottom), which is not the output of the layer before in the chain")
                }
                network.steps += try layer.steps(blobs: &blobs)
                roles[line.tops[0]] = .chain
                chainTip = line.tops[0]
            case "Interp":
                try expect(1, 1)
                guard roles[line.bottoms[0]] == .input else { throw graphError(line, "resizes a blob other than the input") }
                guard network.nearestResidual == nil else { throw graphError(line, "a second Interp") }
                network.nearestResidual = try layer.nearestFactor()
                roles[line.tops[0]] = .upsampled
            case "BinaryOp":
                try expect(2, 1)
                try layer.allow([0, 1, 2])
                guard try layer.int(0, 0) == 0 else { throw layer.unsupported("operation \(try layer.int(0, 0)); supported: 0 (add)") }
                guard try layer.int(1, 0) == 0 else { throw layer.unsupported("with_scalar = 1; supported: two blobs") }
                let rolesIn = Set(line.bottoms.map { $0 == chainTip ? Role.chain : roles[$0] })
                guard !joined, chainTip != nil, rolesIn == [.chain, .upsampled] else {
                    throw graphError(line, "adds blobs other than the chain's output and the nearest Interp of the input")
                }
                joined = true
                roles[line.tops[0]] = .joined
            default:
                throw ImportError(.unsupported, "\(source):\(line.lineNumber): layer \(line.name) has type \(line.type), which upscale does not import; supported: \(supported)")
            }
        }

        /// The network once every line is read: a chain, its residual joined, one output.
        func finish() throws -> ImportedNetwork {
            guard chainTip != nil else {
                throw ImportError(.graph, "\(source): the network has no Convolution or Deconvolution layer (supported: \(supported))")
            }
            if network.nearestResidual != nil && !joined {
                throw ImportError(.graph, "\(source): the Interp's output is never added to the chain's (supported: a BinaryOp add joining them at the end)")
            }
            let unused = roles.keys.filter { !consumed.contains($0) }.sorted()
            guard unused.count == 1 else {
                throw ImportError(.graph, "\(source): blobs \(unused.joined(separator: ", ")) are not read by any layer; supported graphs have one output (a single chain plus the residual)")
            }
            return network
        }
    }
}

/// One layer line with its parameters, read as a layer of a given type.
struct NCNNLayer {
    let line: NCNNLayerLine
    let source: String

    var label: String { "\(source):\(line.lineNumber): layer \(line.name) (\(line.type))" }

    func unsupported(_ what: String) -> ImportError { ImportError(.unsupported, "\(label): \(what)") }

    /// Refuses parameters outside `known` (each would change what the layer computes).
    func allow(_ known: Set<Int>) throws {
        if let bad = line.params.keys.sorted().first(where: { !known.contains($0) }) {
            throw unsupported("parameter \(bad) is not supported (understood: \(known.sorted().map(String.init).joined(separator: ", ")))")
        }
    }

    func int(_ id: Int, _ fallback: Int) throws -> Int {
        switch line.params[id] {
        case nil: return fallback
        case .int(let v): return v
        case .float(let v) where v.rounded() == v && abs(v) < 1e9: return Int(v)
        default: throw ImportError(.syntax, "\(label): parameter \(id) must be an integer")
        }
    }

    func float(_ id: Int, _ fallback: Double) throws -> Double {
        switch line.params[id] {
        case nil: return fallback
        case .int(let v): return Double(v)
        case .float(let v): return v
        case .array: throw ImportError(.syntax, "\(label): parameter \(id) must be a number, not an array")
        }
    }

    func array(_ id: Int) -> [Double] {
        if case .array(let v) = line.params[id] { return v }
        return []
    }

    /// A value in `range`, or an unsupported-parameter error naming it.
    func int(_ id: Int, _ fallback: Int, in range: ClosedRange<Int>, _ what: String) throws -> Int {
        let v = try int(id, fallback)
        let supported = range.count == 1 ? "\(range.lowerBound)" : "\(range.lowerBound) … \(range.upperBound)"
        guard range.contains(v) else { throw unsupported("\(what) [\(id)] = \(v); supported: \(supported)") }
        return v
    }

    /// The chain steps of a Convolution, Deconvolution, ReLU, PReLU or PixelShuffle layer, reading its blobs.
    func steps(blobs: inout NCNNBlobReader) throws -> [ImportStep] {
        switch line.type {
        case "Convolution", "Deconvolution": return try convolution(blobs: &blobs)
        case "ReLU":
            try allow([0])
            let slope = try float(0, 0)
            return [.activation(slope == 0 ? .relu : .leakyReLU(Float(slope)), name: line.name)]
        case "PReLU":
            try allow([0])
            let count = try int(0, 0, in: 1...ModelLimits.maxChannels, "num_slope")
            return [.activation(.prelu(try blobs.raw(count, "layer \(line.name) (PReLU) slopes")), name: line.name)]
        case "PixelShuffle":
            try allow([0, 1])
            let r = try int(0, 1, in: 1...ModelLimits.maxStride, "upscale_factor")
            guard try int(1, 0) == 0 else { throw unsupported("mode \(try int(1, 0)); supported: 0 (PyTorch's channel order)") }
            return [.pixelShuffle(r, name: line.name)]
        default:
            preconditionFailure("not a chain layer: \(line.type)")
        }
    }

    private func convolution(blobs: inout NCNNBlobReader) throws -> [ImportStep] {
        let deconv = line.type == "Deconvolution"
        try allow(deconv ? [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 19, 20, 21, 5, 6, 9, 10, 28]
                         : [0, 1, 11, 2, 12, 3, 13, 4, 14, 15, 16, 18, 5, 6, 8, 9, 10, 17, 19])
        let cOut = try int(0, 0, in: 1...ModelLimits.maxChannels, "num_output")
        let kW = try int(1, 0, in: 1...ModelLimits.maxKernel, "kernel_w")
        let kH = try int(11, kW, in: 1...ModelLimits.maxKernel, "kernel_h")
        let dW = try int(2, 1, in: 1...ModelLimits.maxDilation, "dilation_w")
        let dH = try int(12, dW, in: 1...ModelLimits.maxDilation, "dilation_h")
        let sW = try int(3, 1, in: 1...(deconv ? ModelLimits.maxStride : 1), "stride_w")
        let sH = try int(13, sW, in: 1...(deconv ? ModelLimits.maxStride : 1), "stride_h")
        let left = try int(4, 0), right = try int(15, left), top = try int(14, left), bottom = try int(16, top)
        var padW = left, padH = top
        if !deconv, left == -233 || left == -234 {
            // "same": total padding d·(k − 1) at stride 1; symmetric when it is even.
            guard (dW * (kW - 1)) % 2 == 0, (dH * (kH - 1)) % 2 == 0 else {
                throw unsupported("\"same\" padding of an even kernel is asymmetric; supported: symmetric padding")
            }
            (padW, padH) = (dW * (kW - 1) / 2, dH * (kH - 1) / 2)
        } else {
            guard left == right, top == bottom else {
                throw unsupported("padding left \(left), right \(right), top \(top), bottom \(bottom) is asymmetric; supported: left = right and top = bottom")
            }
            guard (0...ModelLimits.maxPadding).contains(padW), (0...ModelLimits.maxPadding).contains(padH) else {
                throw unsupported("padding [\(padH), \(padW)] must be between 0 and \(ModelLimits.maxPadding)")
            }
        }
        let biasTerm = try int(5, 0, in: 0...1, "bias_term")
        let weightCount = try int(6, 0, in: 1...Int(Int32.max), "weight_data_size")
        let activationType = try int(9, 0)
        let activation: Activation
        switch activationType {
        case 0: activation = .none
        case 1: activation = .relu
        case 2:
            guard let slope = array(10).first else { throw unsupported("leaky relu (activation 2) without its slope [10]") }
            activation = .leakyReLU(Float(slope))
        case 4: activation = .sigmoid
        default:
            throw unsupported("fused activation type \(activationType); supported: 0 (none), 1 (ReLU), 2 (leaky ReLU), 4 (sigmoid)")
        }
        var outputPadding = (0, 0)
        if deconv {
            outputPadding = (try int(19, 0, in: 0...ModelLimits.maxStride, "output_pad_bottom"),
                             try int(18, 0, in: 0...ModelLimits.maxStride, "output_pad_right"))
            guard try int(20, 0) == 0, try int(21, 0) == 0 else { throw unsupported("a fixed output size [20, 21]; supported: none") }
            guard try int(28, 0) == 0 else { throw unsupported("dynamic weights [28]; supported: weights in the .bin") }
        } else {
            guard try int(8, 0) == 0 else { throw unsupported("int8 quantization [8]; supported: fp32 and fp16 weights") }
            guard try int(19, 0) == 0 else { throw unsupported("dynamic weights [19]; supported: weights in the .bin") }
            guard try float(18, 0) == 0 || (padW == 0 && padH == 0) else {
                throw unsupported("padding with value \(try float(18, 0)); supported: zero padding")
            }
        }
        let perInput = cOut * kH * kW
        guard weightCount % perInput == 0, weightCount / perInput <= ModelLimits.maxChannels else {
            throw ImportError(.blobSize, "\(label): weight_data_size [6] = \(weightCount) is not num_output × kernel (\(cOut) × \(kH) × \(kW)) × input channels")
        }
        let cIn = weightCount / perInput
        let values = try blobs.weights(weightCount, "layer \(line.name) (\(line.type)) weight, \(weightCount) values")
        let bias = biasTerm == 1 ? Tensor(shape: [cOut], data: try blobs.raw(cOut, "layer \(line.name) (\(line.type)) bias, \(cOut) values")) : nil
        let stored = Tensor(shape: [cOut, cIn, kH, kW], data: values)   // ncnn: (Cout, Cin, kH, kW)
        var steps: [ImportStep]
        if deconv {
            steps = [.deconv(weight: NCNNLayer.swapChannels(stored), bias: bias, stride: (sH, sW), padding: (padH, padW),
                             outputPadding: outputPadding, dilation: (dH, dW), name: line.name)]
        } else {
            steps = [.conv(weight: stored, bias: bias, padding: (padH, padW), dilation: (dH, dW), name: line.name)]
        }
        if activation != .none { steps.append(.activation(activation, name: line.name)) }
        return steps
    }

    // src = (A, B, kH, kW) / dst = (B, A, kH, kW)
    static func swapChannels(_ w: Tensor) -> Tensor {
        let (a, b, k) = (w.shape[0], w.shape[1], w.shape[2] * w.shape[3])
        var out = [Float](repeating: 0, count: w.count)
        for i in 0..<a { for j in 0..<b { for t in 0..<k { out[(j * a + i) * k + t] = w.data[(i * b + j) * k + t] } } }
        return Tensor(shape: [b, a, w.shape[2], w.shape[3]], data: out)
    }

    /// The integer factor of a nearest Interp.
    func nearestFactor() throws -> Int {
        try allow([0, 1, 2, 3, 4, 5, 6])
        guard try int(0, 0) == 1 else { throw unsupported("resize type \(try int(0, 0)); supported: 1 (nearest)") }
        let (h, w) = (try float(1, 1), try float(2, 1))
        guard h == w, h.rounded() == h, h >= 1, h <= Double(ModelLimits.maxScale) else {
            throw unsupported("scales \(h) × \(w); supported: the same integer scale on both axes, 1 … \(ModelLimits.maxScale)")
        }
        guard try int(3, 0) == 0, try int(4, 0) == 0, try int(5, 0) == 0 else {
            throw unsupported("an output size [3, 4] or a dynamic size [5]; supported: a scale factor")
        }
        guard try int(6, 0) == 0 else { throw unsupported("align_corner [6]; supported: 0") }
        return Int(h)
    }
}
