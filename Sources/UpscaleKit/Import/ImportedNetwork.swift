// A peer network as a chain of PyTorch-style steps, and its conversion to our layer stack.
//
//   conv(W, b, padding p, dilation d)       W (Cout, Cin, kH, kW), Conv2d with stride 1
//        → conv_transpose2d with weight W transposed to (Cin, Cout, kH, kW) and flipped in both
//          spatial axes, padding d·(k − 1) − p (docs/model-format.md, "Layer math")
//   deconv(W, b, stride, padding, output_padding, dilation)   W (Cin, Cout, kH, kW): as is
//   activation                               the current layer's activation
//   pixelShuffle(r) after a k×k conv with "same" padding (k odd, p = (k − 1)/2, dilation 1):
//        one conv_transpose2d, kernel r·k, stride r, padding r·p. Output pixel (y·r + i, x·r + j)
//        of channel c is conv channel c·r² + i·r + j at (y, x), which reads input (y + dy − p, x + dx − p);
//        the transposed conv reaches it from input y + dy − p through tap t = (k − 1 − dy)·r + i, so
//        (src = W (C·r², Cin, k, k) / dst = weight (Cin, C, r·k, r·k))
//          weight[ci][c][a·r + i][b·r + j] = W[c·r² + i·r + j][ci][k − 1 − a][k − 1 − b]
//        and every other tap is zero (a tap t reaches only outputs with o ≡ t mod r).
//        The bias: one per output channel c when the conv's r² biases of c are equal. When they
//        differ (trained SRVGGNetCompact models), one bias per channel cannot hold them, so the
//        previous layer gets one more output channel that is the constant 1 (zero weights, bias 1;
//        its activation keeps 1 at 1) and the folded layer reads it only through its centre tap,
//        whose weight is the phase's bias: every output pixel adds exactly 1·b[c·r² + i·r + j].
//
// Afterwards the stack maps n ↦ S·n + C; S is the scale and C = −2P·S gives the input padding P
// (waifu2x's valid convolutions, which expect the image extended by 7 replicated pixels).

/// One step of a peer network's chain.
enum ImportStep {
    case conv(weight: Tensor, bias: Tensor?, padding: (Int, Int), dilation: (Int, Int), name: String)
    case deconv(weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                dilation: (Int, Int), name: String)
    case activation(Activation, name: String)
    case pixelShuffle(Int, name: String)
}

/// A peer network: the chain, and whether the nearest upscale of the input is added at the end.
struct ImportedNetwork {
    var steps: [ImportStep] = []
    /// The integer factor of the nearest-neighbour residual, nil when there is none.
    var nearestResidual: Int? = nil

    /// The layer stack, scale and input padding; `source` names the file in errors.
    func model(metadata: [String: String], source: String) throws -> Model {
        func fail(_ what: String) -> ImportError { ImportError(.graph, "\(source): \(what)") }
        var layers: [ModelLayer] = []
        var names: [String] = []          // the peer layer each of ours came from
        var hasActivation: [Bool] = []
        var shuffledLayers: Set<Int> = []
        for step in steps {
            switch step {
            case .conv(let w, let b, let padding, let dilation, let name):
                let (kH, kW) = (w.shape[2], w.shape[3])
                let transposedPadding = (dilation.0 * (kH - 1) - padding.0, dilation.1 * (kW - 1) - padding.1)
                guard transposedPadding.0 >= 0, transposedPadding.1 >= 0 else {
                    throw ImportError(.unsupported, "\(source): layer \(name): padding [\(padding.0), \(padding.1)] is wider than the \(kH)×\(kW) kernel reaches (supported: padding ≤ dilation·(kernel − 1))")
                }
                layers.append(ModelLayer(weight: ImportedNetwork.convAsTransposed(w), bias: b,
                                         padding: transposedPadding, dilation: dilation))
                names.append(name); hasActivation.append(false)
            case .deconv(let w, let b, let stride, let padding, let outputPadding, let dilation, let name):
                layers.append(ModelLayer(weight: w, bias: b, stride: stride, padding: padding,
                                         outputPadding: outputPadding, dilation: dilation))
                names.append(name); hasActivation.append(false)
            case .activation(let activation, let name):
                guard let last = layers.indices.last else {
                    throw fail("layer \(name): an activation before any convolution (supported: activations after a Convolution or Deconvolution)")
                }
                guard !hasActivation[last] else {
                    throw fail("layer \(name): a second activation after layer \(names[last]) (supported: one activation per convolution)")
                }
                layers[last].activation = activation
                hasActivation[last] = true
            case .pixelShuffle(let r, let name):
                guard let last = layers.indices.last, !shuffledLayers.contains(last) else {
                    throw fail("layer \(name): PixelShuffle must follow a Convolution directly")
                }
                try ImportedNetwork.foldPixelShuffle(&layers, r: r, shuffleName: name, convName: names[last], source: source)
                shuffledLayers.insert(last)
                names[last] += " + " + name
            }
        }
        guard !layers.isEmpty else { throw fail("the network has no Convolution or Deconvolution layer") }
        // Geometry: n ↦ S·n + C on each axis, with S the scale and C = −2P·S.
        var scales: [Int] = [], offsets: [Int] = []
        for axis in [layers.map(\.rowGeometry), layers.map(\.colGeometry)] {
            let map = AxisGeometry.composed(axis)
            scales.append(map.stride); offsets.append(map.offset)
        }
        let scale = scales[0]
        guard scales[1] == scale, offsets[1] == offsets[0] else {
            throw fail("the layers scale the height by \(scales[0]) and the width by \(scales[1]) (offsets \(offsets[0]), \(offsets[1])); supported: the same on both axes")
        }
        let offset = offsets[0]
        guard offset <= 0, (-offset) % (2 * scale) == 0 else {
            throw fail("the layers map an input size n to \(scale)·n \(offset < 0 ? "−" : "+") \(abs(offset)), which no border padding turns into \(scale)·n (supported: \(scale)·n − 2·P·\(scale) for a padding P)")
        }
        let inputPadding = -offset / (2 * scale)
        if let r = nearestResidual, r != scale {
            throw fail("the residual Interp upscales by \(r) but the layers by \(scale)")
        }
        do {
            return try Model(layers: layers, scale: scale, channels: .rgb, residual: nearestResidual == nil ? .none : .nearest,
                             inputPadding: inputPadding, metadata: metadata, source: source)
        } catch let error as ModelError {
            throw ImportError(.graph, "\(error.message)")
        }
    }

    // src = W (Cout, Cin, kH, kW), Conv2d / dst = (Cin, Cout, kH, kW), flipped in both spatial axes
    static func convAsTransposed(_ w: Tensor) -> Tensor {
        let (cOut, cIn, kH, kW) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        var out = [Float](repeating: 0, count: w.count)
        for o in 0..<cOut {
            for i in 0..<cIn {
                for y in 0..<kH {
                    for x in 0..<kW {
                        out[((i * cOut + o) * kH + (kH - 1 - y)) * kW + (kW - 1 - x)] = w.data[((o * cIn + i) * kH + y) * kW + x]
                    }
                }
            }
        }
        return Tensor(shape: [cIn, cOut, kH, kW], data: out)
    }

    /// Replaces the last layer (a stride-1 conv in transposed form, "same" padding) followed by
    /// PixelShuffle(r) with one transposed conv of kernel r·k, stride r, padding r·p (see the top
    /// of the file); adds the constant-1 channel to the layer before when the phase biases differ.
    static func foldPixelShuffle(_ layers: inout [ModelLayer], r: Int, shuffleName: String, convName: String,
                                 source: String) throws {
        func refuse(_ what: String) -> ImportError {
            ImportError(.unsupported, "\(source): layer \(shuffleName) (PixelShuffle \(r)) after layer \(convName): \(what)")
        }
        let last = layers.count - 1
        let layer = layers[last]
        let (k, kW) = layer.kernel
        let p = (k - 1) / 2
        guard r >= 1, r <= ModelLimits.maxStride else { throw refuse("the factor must be between 1 and \(ModelLimits.maxStride)") }
        guard k == kW, k % 2 == 1, layer.stride == (1, 1), layer.dilation == (1, 1), layer.groups == 1,
              layer.padding == (p, p), layer.outputPadding == (0, 0) else {
            throw refuse("supported only after a square, odd-sized convolution with stride 1, dilation 1 and \"same\" padding (k − 1)/2")
        }
        guard r * k <= ModelLimits.maxKernel else { throw refuse("the folded kernel \(r * k) is larger than the limit of \(ModelLimits.maxKernel)") }
        let cIn = layer.inChannels, cAll = layer.outChannels
        guard cAll % (r * r) == 0 else { throw refuse("\(cAll) channels is not a multiple of \(r * r)") }
        let c = cAll / (r * r)
        // The activation commutes with the shuffle when it is the same on every phase of a channel.
        var activation = layer.activation
        if case .prelu(let slopes) = activation, slopes.count > 1 {
            for ch in 0..<c where Set(slopes[(ch * r * r)..<((ch + 1) * r * r)]).count > 1 {
                throw refuse("the PReLU before it has different slopes on the \(r * r) phases of channel \(ch)")
            }
            activation = .prelu((0..<c).map { slopes[$0 * r * r] })
        }
        let bias = layer.bias?.data
        let phaseBiasesEqual = bias.map { b in (0..<c).allSatisfy { ch in Set(b[(ch * r * r)..<((ch + 1) * r * r)]).count == 1 } } ?? true
        let needsBiasChannel = !phaseBiasesEqual
        if needsBiasChannel {
            guard last > 0 else { throw refuse("the convolution's biases differ between phases and no layer before it can carry them") }
            try addConstantChannel(&layers[last - 1], refuse: refuse)
        }
        // The layer in Conv2d terms: W[o][ci][dy][dx] = layer.weight[ci][o][k − 1 − dy][k − 1 − dx].
        let K = r * k
        let inputs = cIn + (needsBiasChannel ? 1 : 0)
        var weight = [Float](repeating: 0, count: inputs * c * K * K)   // (inputs, C, K, K)
        for ci in 0..<cIn {
            for ch in 0..<c {
                for i in 0..<r {
                    for j in 0..<r {
                        let o = ch * r * r + i * r + j
                        for a in 0..<k {
                            for b in 0..<k {
                                // W[o][ci][k − 1 − a][k − 1 − b] = layer.weight[ci][o][a][b]
                                weight[((ci * c + ch) * K + a * r + i) * K + b * r + j] = layer.weight.data[((ci * cAll + o) * k + a) * k + b]
                            }
                        }
                    }
                }
            }
        }
        var newBias: Tensor? = nil
        if let bias {
            if needsBiasChannel {
                for ch in 0..<c {
                    for i in 0..<r {
                        for j in 0..<r {
                            weight[((cIn * c + ch) * K + p * r + i) * K + p * r + j] = bias[ch * r * r + i * r + j]
                        }
                    }
                }
            } else {
                newBias = Tensor(shape: [c], data: (0..<c).map { bias[$0 * r * r] })
            }
        }
        layers[last] = ModelLayer(weight: Tensor(shape: [inputs, c, K, K], data: weight), bias: newBias,
                                  stride: (r, r), padding: (r * p, r * p), activation: activation)
    }

    /// One more output channel on `layer` whose value is 1 everywhere: zero weights, bias 1, and an
    /// activation that maps 1 to 1.
    static func addConstantChannel(_ layer: inout ModelLayer, refuse: (String) -> ImportError) throws {
        switch layer.activation {
        case .none, .relu, .leakyReLU: break
        case .prelu(let slopes): if slopes.count > 1 { layer.activation = .prelu(slopes + [0]) }
        case .sigmoid, .tanh, .silu:
            throw refuse("the convolution's biases differ between phases and the layer before it ends in \(layer.activation), which does not keep a constant 1")
        }
        guard layer.groups == 1 else { throw refuse("the convolution's biases differ between phases and the layer before it is grouped") }
        let (cIn, cOut, kH, kW) = (layer.weight.shape[0], layer.weight.shape[1], layer.weight.shape[2], layer.weight.shape[3])
        // src = weight (Cin, Cout, kH, kW) / dst = (Cin, Cout + 1, kH, kW), output channel Cout all zeros
        var weight = [Float](repeating: 0, count: cIn * (cOut + 1) * kH * kW)   // (Cin, Cout + 1, kH, kW)
        for ci in 0..<cIn {
            for o in 0..<cOut {
                for t in 0..<(kH * kW) { weight[(ci * (cOut + 1) + o) * kH * kW + t] = layer.weight.data[(ci * cOut + o) * kH * kW + t] }
            }
        }
        layer.weight = Tensor(shape: [cIn, cOut + 1, kH, kW], data: weight)
        layer.bias = Tensor(shape: [cOut + 1], data: (layer.bias?.data ?? [Float](repeating: 0, count: cOut)) + [1])
    }
}
