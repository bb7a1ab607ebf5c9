// ncnn `.param`/`.bin` networks that are graphs, not one chain (RRDBNet as Real-ESRGAN and upscayl
// ship it), as a GraphModel. Blobs become graph values; each layer becomes nodes:
//
//   Input                       the image (3 channels)
//   Split                       no node: every top is the bottom's value
//   Convolution, Deconvolution  conv_transpose2d (read as in the chain import, fused activation
//                               0 none / 1 ReLU / 2 leaky ReLU / 4 sigmoid included)
//   ReLU (slope a)              leaky_relu a (a ReLU is leaky_relu 0: the same values, −0 for x < 0)
//   PReLU, Sigmoid, Swish       prelu, sigmoid, silu
//   PixelShuffle (mode 0)       pixel_shuffle
//   Interp (nearest, integer)   upsample_nearest
//   Concat (axis 0)             concat
//   Eltwise sum (0=1)           add, with its coefficients [1] (default 1 each); product (0=0): mul of two
//   BinaryOp                    two blobs: add (0), sub (1: add with scales 1, −1), mul (2);
//                               with a scalar b (1=1): add → affine shift b, sub → shift −b, mul → affine scale b
// The output is the one blob no layer reads. Bicubic Interp (realesr-animevideov3 x2 and x3: the
// x4 network followed by a bicubic downscale) is refused, saying why.

extension NCNNGraph {
    static let graphLayers = "Input, Split, Convolution, Deconvolution, ReLU, PReLU, Sigmoid, Swish, PixelShuffle, Interp (nearest), Concat, Eltwise (sum, product), BinaryOp (add, sub, mul; of two blobs or by a scalar)"

    /// Whether the layers form a graph for this import rather than the chain import: a Concat,
    /// an Eltwise, a BinaryOp by a scalar, or more than one BinaryOp (the chain import takes one:
    /// the final residual add, and refuses everything else with its own messages).
    static func needsGraph(_ lines: [NCNNLayerLine]) -> Bool {
        var binaryOps = 0
        for line in lines {
            switch line.type {
            case "Concat", "Eltwise": return true
            case "BinaryOp" where line.bottoms.count == 1: return true
            case "BinaryOp": binaryOps += 1
            default: continue
            }
        }
        return binaryOps > 1
    }

    /// The network as a graph model; `metadata` as the import records it.
    static func graphModel(_ lines: [NCNNLayerLine], blobs: inout NCNNBlobReader, source: String,
                           metadata: [String: String]) throws -> GraphModel {
        func graphError(_ line: NCNNLayerLine, _ what: String) -> ImportError {
            ImportError(.graph, "\(source):\(line.lineNumber): layer \(line.name) (\(line.type)): \(what)")
        }
        var g = GraphBuilder(source: source)
        var values: [String: Int] = [:]   // blob → value
        var consumed: Set<String> = []
        var splitTops: Set<String> = []   // blobs a Split writes: their value has other readers
        var usedNames: Set<String> = []
        /// A node name from the layer's, made valid and unique.
        func nodeName(_ raw: String) -> String {
            var name = String(String.UnicodeScalarView(raw.unicodeScalars.map { scalar in
                let v = scalar.value
                let ok = (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F || v == 0x2E || v == 0x2D || v == 0x2F
                return ok ? scalar : "_"
            }).prefix(GraphLimits.maxNameBytes - 8))
            if name.isEmpty || name == "input" { name = "layer" }
            var unique = name, k = 1
            while usedNames.contains(unique) { k += 1; unique = "\(name).\(k)" }
            usedNames.insert(unique)
            return unique
        }
        for (index, line) in lines.enumerated() {
            let layer = NCNNLayer(line: line, source: source)
            let inputs = try line.bottoms.map { bottom -> Int in
                guard let v = values[bottom] else { throw graphError(line, "reads blob \(bottom), which no earlier layer writes") }
                guard !consumed.contains(bottom) else { throw graphError(line, "reads blob \(bottom) a second time (only a Split may share a blob)") }
                consumed.insert(bottom)
                return v
            }
            for top in line.tops where values[top] != nil { throw graphError(line, "writes blob \(top) a second time") }
            func expect(_ bottoms: ClosedRange<Int>, _ tops: Int) throws {
                guard bottoms.contains(line.bottoms.count), line.tops.count == tops else {
                    throw graphError(line, "has \(line.bottoms.count) inputs and \(line.tops.count) outputs")
                }
            }
            func output(_ v: Int) { values[line.tops[0]] = v }
            let name = line.type == "Split" ? "" : nodeName(line.name)
            switch line.type {
            case "Input":
                guard index == 0 else { throw graphError(line, "a second Input, or an Input after other layers") }
                try expect(0...0, 1)
                try layer.allow([0, 1, 2, 11])
                let c = try layer.int(2, 0)
                guard c == 0 || c == 3 else { throw layer.unsupported("the input has \(c) channels; supported: 3 (RGB)") }
                output(GraphNode.image)
            case "Split":
                try expect(1...1, line.tops.count)
                try layer.allow([])
                for top in line.tops { values[top] = inputs[0]; splitTops.insert(top) }
            case "Convolution", "Deconvolution", "ReLU", "PReLU", "PixelShuffle":
                try expect(1...1, 1)
                var v = inputs[0]
                for step in try layer.steps(blobs: &blobs) {
                    switch step {
                    case .conv(let w, let b, let padding, let dilation, _):
                        let (kH, kW) = (w.shape[2], w.shape[3])
                        let layerPadding = (dilation.0 * (kH - 1) - padding.0, dilation.1 * (kW - 1) - padding.1)
                        guard layerPadding.0 >= 0, layerPadding.1 >= 0 else { throw layer.unsupported("padding wider than the kernel reaches") }
                        v = g.add(name, .conv(ModelLayer(weight: ImportedNetwork.convAsTransposed(w), bias: b, padding: layerPadding,
                                                         dilation: dilation)), [v])
                    case .deconv(let w, let b, let stride, let padding, let outputPadding, let dilation, _):
                        v = g.add(name, .conv(ModelLayer(weight: w, bias: b, stride: stride, padding: padding,
                                                         outputPadding: outputPadding, dilation: dilation)), [v])
                    case .activation(let activation, _):
                        if line.type != "ReLU", line.type != "PReLU", v == g.nodes.count - 1, case .conv(var conv)? = g.nodes.last?.op {
                            conv.activation = activation      // the conv's fused activation
                            g.nodes[g.nodes.count - 1].op = .conv(conv)
                        } else if activation == .relu, line.type == "ReLU", !splitTops.contains(line.bottoms[0]),
                                  v >= 0, case .conv(var conv) = g.nodes[v].op, conv.activation == .none {
                            // A ReLU reading a convolution's own blob is its only reader (every other
                            // reader goes through a Split): fused, max(x, 0) gives +0 as ncnn does.
                            conv.activation = .relu
                            g.nodes[v].op = .conv(conv)
                        } else {
                            switch activation {
                            case .relu:
                                // max(x, 0) without a relu node: leaky_relu(0) gives 0·x = −0 for x < 0,
                                // and (y + 0)·1 turns −0 into +0, leaving every other value as it is
                                // (exact for all x but −∞, where it gives NaN, not 0).
                                v = g.add(name, .leakyReLU(0), [v])
                                v = g.add(nodeName(line.name + ".plus_zero"), .affine(shift: [0], scale: [1]), [v])
                            case .leakyReLU(let a): v = g.add(name, .leakyReLU(a), [v])
                            case .prelu(let slopes): v = g.add(name, .prelu(slopes), [v])
                            case .sigmoid: v = g.add(name, .sigmoid, [v])
                            default: throw layer.unsupported("activation \(activation)")
                            }
                        }
                    case .pixelShuffle(let r, _):
                        v = g.add(name, .pixelShuffle(r), [v])
                    }
                }
                output(v)
            case "Sigmoid", "Swish":
                try expect(1...1, 1)
                try layer.allow([])
                output(g.add(name, line.type == "Sigmoid" ? .sigmoid : .silu, inputs))
            case "Interp":
                try expect(1...1, 1)
                if try layer.int(0, 0) == 3 {
                    throw layer.unsupported("bicubic resize by \(try layer.float(1, 1)) × \(try layer.float(2, 1)): upscale does not import a bicubic Interp (realesr-animevideov3's x2 and x3 files are its x4 network followed by one; import the x4 file)")
                }
                output(g.add(name, .upsampleNearest(try layer.nearestFactor()), inputs))
            case "Concat":
                try expect(1...GraphLimits.maxInputs, 1)
                try layer.allow([0])
                guard try layer.int(0, 0) == 0 else { throw layer.unsupported("axis \(try layer.int(0, 0)); supported: 0 (channels)") }
                output(g.add(name, .concat, inputs))
            case "Eltwise":
                try expect(2...GraphLimits.maxInputs, 1)
                try layer.allow([0, 1])
                switch try layer.int(0, 0) {
                case 1:
                    let coefficients = layer.array(1)
                    guard coefficients.isEmpty || coefficients.count == inputs.count else {
                        throw layer.unsupported("\(coefficients.count) coefficients for \(inputs.count) inputs")
                    }
                    let scales = coefficients.isEmpty ? [Float](repeating: 1, count: inputs.count) : coefficients.map { Float($0) }
                    output(g.add(name, .add(scales: scales), inputs))
                case 0 where inputs.count == 2:
                    output(g.add(name, .mul, inputs))
                default:
                    throw layer.unsupported("operation \(try layer.int(0, 0)); supported: 1 (sum, with coefficients) and 0 (product of two)")
                }
            case "BinaryOp":
                try layer.allow([0, 1, 2])
                let op = try layer.int(0, 0)
                if try layer.int(1, 0) == 1 {
                    try expect(1...1, 1)
                    let b = Float(try layer.float(2, 0))
                    switch op {
                    case 0: output(g.add(name, .affine(shift: [b], scale: [1]), inputs))
                    case 1: output(g.add(name, .affine(shift: [-b], scale: [1]), inputs))
                    case 2: output(g.add(name, .affine(shift: [0], scale: [b]), inputs))
                    default: throw layer.unsupported("operation \(op) with a scalar; supported: 0 (add), 1 (sub), 2 (mul)")
                    }
                } else {
                    try expect(2...2, 1)
                    switch op {
                    case 0: output(g.add(name, .add(scales: [1, 1]), inputs))
                    case 1: output(g.add(name, .add(scales: [1, -1]), inputs))
                    case 2: output(g.add(name, .mul, inputs))
                    default: throw layer.unsupported("operation \(op) of two blobs; supported: 0 (add), 1 (sub), 2 (mul)")
                    }
                }
            default:
                throw ImportError(.unsupported, "\(source):\(line.lineNumber): layer \(line.name) has type \(line.type), which upscale does not import; supported: \(graphLayers)")
            }
        }
        let unread = values.keys.filter { !consumed.contains($0) }.sorted()
        guard unread.count == 1, let out = values[unread[0]] else {
            throw ImportError(.graph, "\(source): blobs \(unread.joined(separator: ", ")) are not read by any layer; supported: one output blob")
        }
        guard out == g.nodes.count - 1 else {
            throw ImportError(.graph, "\(source): the output blob \(unread[0]) is not written by the last layer (supported: layers in the order they run, the output last)")
        }
        // The scale: the output's size factor, which the model's checks then confirm.
        let shapes: [GraphValueShape]
        do {
            shapes = try GraphModel.validate(nodes: g.nodes, scale: nil, channels: .rgb, metadata: [:], source: source)
        } catch let error as ModelError {
            throw ImportError(.graph, error.message)
        }
        let last = shapes[shapes.count - 1]
        guard last.rows.denominator == 1, last.rows == last.cols else {
            throw ImportError(.graph, "\(source): the network maps (H, W) to (\(last.rows)·H, \(last.cols)·W); supported: an integer scale, the same on both axes")
        }
        var meta = metadata
        meta["architecture"] = lines.contains { $0.type == "Concat" } && lines.contains { $0.type == "Interp" } ? "RRDBNet (ncnn graph)" : "ncnn graph"
        return try g.model(scale: last.rows.numerator, metadata: meta)
    }
}
