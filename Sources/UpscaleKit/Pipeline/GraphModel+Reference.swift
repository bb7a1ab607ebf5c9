// The whole-image run of a graph model: every node on the whole feature map, in node order, each
// value freed after its last reader. It is the reference the streamed executor must equal bit for
// bit, and the run of small images.
//
//   input (1, C, H, W) → reflect-pad to (1, C, H', W'), H', W' the next multiples of sizeMultiple
//                      → nodes → (1, C, scale·H', scale·W') → crop to (1, C, scale·H, scale·W)
//
// Reflection (PyTorch's F.pad(mode="reflect") at the bottom and right, as spandrel pads RRDBNet
// before its pixel_unshuffle): padded index i ≥ n reads n − 2 − (i − n) = 2(n − 1) − i, folded
// again while outside [0, n) (PyTorch refuses a pad ≥ n; we keep reflecting, period 2(n − 1)).

extension GraphModel {
    /// The network (no colour stage, residual or clamp) on a whole image.
    /// - Parameter input: (1, C, H, W), C the model's channel count, H, W ≥ 1.
    /// - Returns: (1, C, scale·H, scale·W).
    /// - Throws: `ModelError` for a wrong input shape.
    public func networkOutput(_ input: Tensor, threads: Int = Threading.coreCount) throws -> Tensor {
        let source = metadata["name"] ?? "<model>"
        guard input.rank == 4, input.shape[0] == 1, input.shape[1] == channels.count, input.shape[2] > 0, input.shape[3] > 0 else {
            throw ModelError("\(source): the network needs a (1, \(channels.count), H, W) tensor with H, W ≥ 1, got \(input.shape)")
        }
        let (h, w) = (input.shape[2], input.shape[3])
        let (paddedH, paddedW) = (GraphModel.roundUp(h, sizeMultiple), GraphModel.roundUp(w, sizeMultiple))
        let padded = paddedH == h && paddedW == w ? input : GraphModel.reflectPadded(input, height: paddedH, width: paddedW)
        let output = try runNodes(padded, threads: threads)
        if paddedH == h && paddedW == w { return output }
        let c = output.shape[1], (outH, outW) = (scale * h, scale * w), fullW = output.shape[3]
        return Tensor(shape: [1, c, outH, outW]) { out in
            output.withUnsafeBufferPointer { full in
                for ch in 0..<c {
                    for y in 0..<outH {
                        for x in 0..<outW { out[(ch * outH + y) * outW + x] = full[(ch * output.shape[2] + y) * fullW + x] }
                    }
                }
            }
        }
    }

    /// n rounded up to a multiple of m.
    static func roundUp(_ n: Int, _ m: Int) -> Int { (n + m - 1) / m * m }

    /// Index `i` ≥ 0 of a length-`n` axis extended by reflection.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let m = i % (2 * (n - 1))
        return m < n ? m : 2 * (n - 1) - m
    }

    /// x (1, C, H, W) → (1, C, height, width), rows and columns past the image reflected.
    static func reflectPadded(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        return Tensor(shape: [1, c, height, width]) { out in
            x.withUnsafeBufferPointer { src in
                for ch in 0..<c {
                    for y in 0..<height {
                        let row = (ch * h + reflect(y, h)) * w
                        for xx in 0..<width { out[(ch * height + y) * width + xx] = src[row + reflect(xx, w)] }
                    }
                }
            }
        }
    }

    /// The nodes on an input whose sizes are multiples of `sizeMultiple`: the last node's output.
    func runNodes(_ input: Tensor, threads: Int) throws -> Tensor {
        let (h, w) = (input.shape[2], input.shape[3])
        precondition(h % sizeMultiple == 0 && w % sizeMultiple == 0, "runNodes: input not a multiple of \(sizeMultiple)")
        var values = [Tensor?](repeating: nil, count: nodes.count)
        func value(_ v: Int) -> Tensor { v == GraphNode.image ? input : values[v]! }
        for (k, node) in nodes.enumerated() {
            let shape = shapes[k]
            let (outH, outW) = (shape.rows.of(h), shape.cols.of(w))
            let outShape = [1, shape.channels, outH, outW]
            let plane = outH * outW
            let first = value(node.inputs[0])
            switch node.op {
            case .conv(let layer):   // its Winograd tiles where the model staggers them, as the streamed run
                values[k] = try plans[k]!.run(first, tilePhase: (layer.rowGeometry.phase, 0), threads: threads)
            case .add(let scales):
                let inputs = node.inputs.map(value)
                values[k] = Tensor(shape: outShape) { out in
                    withPointers(inputs) { ElementwiseOps.add($0, scales: scales, count: out.count, into: out.baseAddress!) }
                }
            case .mul:
                let second = value(node.inputs[1])
                values[k] = Tensor(shape: outShape) { out in
                    first.withUnsafeBufferPointer { a in
                        second.withUnsafeBufferPointer { b in
                            ElementwiseOps.mul(a.baseAddress!, b.baseAddress!, count: out.count, into: out.baseAddress!)
                        }
                    }
                }
            case .affine(let shift, let scale):
                values[k] = Tensor(shape: outShape) { out in
                    first.withUnsafeBufferPointer {
                        ElementwiseOps.affine($0.baseAddress!, shift: shift, scale: scale, channels: shape.channels,
                                              plane: plane, into: out.baseAddress!)
                    }
                }
            case .sigmoid, .silu, .leakyReLU, .prelu:
                let activation: Activation
                switch node.op {
                case .sigmoid: activation = .sigmoid
                case .silu: activation = .silu
                case .leakyReLU(let slope): activation = .leakyReLU(slope)
                case .prelu(let slopes): activation = .prelu(slopes)
                default: preconditionFailure("not an activation node")
                }
                values[k] = Tensor(shape: outShape) { out in
                    first.withUnsafeBufferPointer {
                        ElementwiseOps.activation(activation, $0.baseAddress!, channels: shape.channels, plane: plane,
                                                  into: out.baseAddress!)
                    }
                }
            case .concat:
                // Batch 1, NCHW: the channels one after another are the data one after another.
                values[k] = Tensor(shape: outShape, data: node.inputs.flatMap { value($0).data })
            case .pixelShuffle(let r), .pixelUnshuffle(let r), .upsampleNearest(let r):
                let (inC, inH, inW) = (first.shape[1], first.shape[2], first.shape[3])
                values[k] = Tensor(shape: outShape) { out in
                    first.withUnsafeBufferPointer { x in
                        let (src, dst) = (x.baseAddress!, out.baseAddress!)
                        switch node.op {
                        case .pixelShuffle:
                            ShuffleOps.pixelShuffle(src, inputChannels: inC, inputRowOrigin: 0, inputRows: inH, inputWidth: inW,
                                                    factor: r, rows: 0..<outH, into: dst)
                        case .pixelUnshuffle:
                            ShuffleOps.pixelUnshuffle(src, inputChannels: inC, inputRowOrigin: 0, inputRows: inH, inputWidth: inW,
                                                      factor: r, rows: 0..<outH, into: dst)
                        default:
                            ShuffleOps.upsampleNearest(src, inputChannels: inC, inputRowOrigin: 0, inputRows: inH, inputWidth: inW,
                                                       factor: r, rows: 0..<outH, into: dst)
                        }
                    }
                }
            }
            for v in Set(node.inputs) where v != GraphNode.image && lastUse[v] == k { values[v] = nil }
        }
        return values[nodes.count - 1]!
    }
}

/// `body` with the base addresses of every tensor's storage (kept alive for the call).
func withPointers<R>(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) -> R) -> R {
    var pointers: [UnsafePointer<Float>] = []
    func nest(_ i: Int) -> R {
        guard i < tensors.count else { return body(pointers) }
        return tensors[i].withUnsafeBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            return nest(i + 1)
        }
    }
    return nest(0)   // depth ≤ GraphLimits.maxInputs (64)
}
