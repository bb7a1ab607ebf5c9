// conv_transpose2d, exactly as torch.nn.functional.conv_transpose2d.
//
// Alphabet: n batch, g group, ci/co input/output channel within a group, h/w input position,
// kh/kw kernel tap, oh/ow output position. cInG = Cin/groups, cOutG = Cout/groups.
//
//   input  (N, Cin, H, W)           or unbatched (Cin, H, W)
//   weight (Cin, Cout/groups, kH, kW)               -- PyTorch's layout, also on disk
//   bias   (Cout)                                   -- optional
//   output (N, Cout, Hout, Wout)
//
//   Hout = (H − 1)·sH − 2·pH + dH·(kH − 1) + opH + 1        (Wout likewise)
//
// Every input pixel scatters its value times the kernel into the output:
//   out[n, g·cOutG + co, h·sH − pH + kh·dH, w·sW − pW + kw·dW] += x[n, g·cInG + ci, h, w] · W[g·cInG + ci, co, kh, kw]
// Positions that land outside [0, Hout) × [0, Wout) are dropped (padding crops the border;
// output_padding adds rows/columns at the bottom/right that only the bias reaches).

/// An error a caller can cause by handing `convTranspose2d` shapes or parameters PyTorch refuses.
public struct ConvTransposeError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// One axis of a conv_transpose2d's geometry (kernel k, stride s, padding p, output padding op,
/// dilation d): the one place the output-size formula is written.
///   out = (in − 1)·s − 2p + d·(k − 1) + op + 1 = s·in + outputSize(0)
///   input i reaches outputs  i·s − p + j·d  for j in 0..<k
///   so outputs [o0, o1) need inputs [ceil((o0 + p − d·(k − 1)) / s), floor((o1 − 1 + p) / s) + 1)
public struct AxisGeometry: Equatable, Sendable {
    public var kernel: Int, stride: Int, padding: Int, outputPadding: Int, dilation: Int
    /// The layer's outputs are computed in blocks [k·alignment + phase, (k + 1)·alignment + phase)
    /// of the whole output map (a Winograd layer's tiles, ConvTranspose2D+Winograd.swift): each
    /// output's rounding depends on every input its block reads. 1: each output on its own.
    public var alignment: Int
    /// Where the blocks start, 0 ..< alignment: a streamed graph staggers its layers' row blocks so
    /// that each lags its input by its own reach, not by a whole block (GraphModel.staggered).
    public var phase: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, dilation: Int = 1,
                alignment: Int = 1, phase: Int = 0) {
        precondition(alignment >= 1 && (0..<alignment).contains(phase), "an alignment and a phase within it")
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.outputPadding = outputPadding; self.dilation = dilation; self.alignment = alignment; self.phase = phase
    }

    /// Output length for an input of length `input`.
    public func outputSize(_ input: Int) -> Int {
        (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
    }

    /// The map n ↦ stride·n + offset that `layers`, one after another, make of an input length n
    /// (each layer maps n to s·n + outputSize(0)).
    public static func composed(_ layers: [AxisGeometry]) -> (stride: Int, offset: Int) {
        layers.reduce((stride: 1, offset: 0)) { map, g in (map.stride * g.stride, map.offset * g.stride + g.outputSize(0)) }
    }

    /// The inputs (unclipped, possibly empty) that outputs `output` are computed from: those whose
    /// taps land in the aligned blocks holding `output` (`alignment`, `phase`; itself with
    /// alignment 1). Every windowed run gives the whole-map bits when its input window holds these,
    /// clipped to the map (TilePlan, BandPlan, GraphRowSchedule).
    public func inputRange(forOutput output: Range<Int>) -> Range<Int> {
        let (first, end) = output.isEmpty ? (output.lowerBound, output.upperBound)
            : (floorDiv(output.lowerBound - phase, alignment) * alignment + phase,
               ceilDiv(output.upperBound - phase, alignment) * alignment + phase)
        let lo = ceilDiv(first + padding - dilation * (kernel - 1), stride)
        let hi = floorDiv(end - 1 + padding, stride) + 1
        return lo..<max(lo, hi)
    }

    /// The lengths of a value through `layers` one after another: [n, layer 0's output, …, the last's].
    public static func lengths(_ n: Int, through layers: [AxisGeometry]) -> [Int] {
        var lengths = [n]
        for g in layers { lengths.append(g.outputSize(lengths[lengths.count - 1])) }
        return lengths
    }
}

/// Validated geometry of one conv_transpose2d call, with batch made explicit.
public struct ConvTranspose2DGeometry: Equatable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var groups: Int
    public var inHeight: Int, inWidth: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var outPadH: Int, outPadW: Int
    public var dilationH: Int, dilationW: Int
    public var outHeight: Int, outWidth: Int

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }

    /// Checks shapes and parameters the way PyTorch does and derives the output size.
    /// `inputShape` is `(N, Cin, H, W)` or `(Cin, H, W)`; `weightShape` is `(Cin, Cout/groups, kH, kW)`.
    public init(inputShape: [Int], weightShape: [Int], biasShape: [Int]?,
                stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int),
                groups: Int, dilation: (Int, Int)) throws {
        guard inputShape.count == 3 || inputShape.count == 4 else {
            throw ConvTransposeError("conv_transpose2d: expected 3D (unbatched) or 4D (batched) input, but got input of size \(inputShape)")
        }
        guard weightShape.count == 4 else {
            throw ConvTransposeError("conv_transpose2d: expected a 4D weight (Cin, Cout/groups, kH, kW), but got weight of size \(weightShape)")
        }
        guard groups >= 1 else {
            throw ConvTransposeError("conv_transpose2d: groups must be positive, but got groups=\(groups)")
        }
        guard stride.0 >= 1, stride.1 >= 1 else {
            throw ConvTransposeError("conv_transpose2d: stride must be at least 1, but got stride=(\(stride.0), \(stride.1))")
        }
        guard dilation.0 >= 1, dilation.1 >= 1 else {
            throw ConvTransposeError("conv_transpose2d: dilation must be at least 1, but got dilation=(\(dilation.0), \(dilation.1))")
        }
        guard padding.0 >= 0, padding.1 >= 0 else {
            throw ConvTransposeError("conv_transpose2d: padding must be non-negative, but got padding=(\(padding.0), \(padding.1))")
        }
        guard outputPadding.0 >= 0, outputPadding.1 >= 0 else {
            throw ConvTransposeError("conv_transpose2d: output_padding must be non-negative, but got output_padding=(\(outputPadding.0), \(outputPadding.1))")
        }
        guard outputPadding.0 < stride.0 || outputPadding.0 < dilation.0,
              outputPadding.1 < stride.1 || outputPadding.1 < dilation.1 else {
            throw ConvTransposeError("conv_transpose2d: output_padding must be smaller than either stride or dilation, but got output_padding=(\(outputPadding.0), \(outputPadding.1)), stride=(\(stride.0), \(stride.1)), dilation=(\(dilation.0), \(dilation.1))")
        }
        let batched = inputShape.count == 4
        let n = batched ? inputShape[0] : 1
        let (cIn, h, w) = batched ? (inputShape[1], inputShape[2], inputShape[3])
                                  : (inputShape[0], inputShape[1], inputShape[2])
        guard n >= 0, cIn > 0, h > 0, w > 0 else {
            throw ConvTransposeError("conv_transpose2d: expected input with non-zero channels, height and width, but got input of size \(inputShape)")
        }
        let (wIn, cOutG, kH, kW) = (weightShape[0], weightShape[1], weightShape[2], weightShape[3])
        guard cOutG > 0, kH > 0, kW > 0 else {
            throw ConvTransposeError("conv_transpose2d: weight of size \(weightShape) has an empty dimension")
        }
        guard wIn % groups == 0 else {
            throw ConvTransposeError("conv_transpose2d: weight dim 0 (Cin = \(wIn)) is not divisible by groups \(groups) (weight of size \(weightShape))")
        }
        guard wIn == cIn else {
            throw ConvTransposeError("conv_transpose2d: weight of size \(weightShape) expects input to have \(wIn) channels (weight dim 0), but got input of size \(inputShape) with \(cIn) channels")
        }
        guard cIn % groups == 0 else {
            throw ConvTransposeError("conv_transpose2d: input channels (\(cIn)) must be divisible by groups=\(groups)")
        }
        let (cOut, overflow) = cOutG.multipliedReportingOverflow(by: groups)
        guard !overflow else {
            throw ConvTransposeError("conv_transpose2d: output channels \(cOutG)·\(groups) overflow")
        }
        if let biasShape {
            guard biasShape == [cOut] else {
                throw ConvTransposeError("conv_transpose2d: bias has shape \(biasShape), expected [\(cOut)] (Cout = weight dim 1 · groups)")
            }
        }
        let outH = AxisGeometry(kernel: kH, stride: stride.0, padding: padding.0, outputPadding: outputPadding.0,
                                dilation: dilation.0).outputSize(h)
        let outW = AxisGeometry(kernel: kW, stride: stride.1, padding: padding.1, outputPadding: outputPadding.1,
                                dilation: dilation.1).outputSize(w)
        guard outH > 0, outW > 0 else {
            throw ConvTransposeError("conv_transpose2d: given input size per channel (\(h) x \(w)), the calculated output size per channel is (\(outH) x \(outW)), which is too small (padding=(\(padding.0), \(padding.1)), stride=(\(stride.0), \(stride.1)), kernel=(\(kH), \(kW)), dilation=(\(dilation.0), \(dilation.1)))")
        }
        guard Tensor.checkedElementCount([n, cOut, outH, outW]) != nil,
              Tensor.checkedElementCount([n, cIn, h, w, cOutG, kH, kW]) != nil else {
            throw ConvTransposeError("conv_transpose2d: output of size [\(n), \(cOut), \(outH), \(outW)] is too large")
        }
        self.batch = n
        self.inChannels = cIn
        self.outChannels = cOut
        self.groups = groups
        self.inHeight = h; self.inWidth = w
        self.kernelHeight = kH; self.kernelWidth = kW
        self.strideH = stride.0; self.strideW = stride.1
        self.padH = padding.0; self.padW = padding.1
        self.outPadH = outputPadding.0; self.outPadW = outputPadding.1
        self.dilationH = dilation.0; self.dilationW = dilation.1
        self.outHeight = outH; self.outWidth = outW
    }
}

/// `torch.nn.functional.conv_transpose2d`, computed by the fast kernel on all cores.
///
/// - Parameters:
///   - input: `(N, Cin, H, W)` or unbatched `(Cin, H, W)`.
///   - weight: `(Cin, Cout/groups, kH, kW)`.
///   - bias: `(Cout)` or nil.
/// - Returns: `(N, Cout, Hout, Wout)`, or `(Cout, Hout, Wout)` for unbatched input.
/// - Throws: `ConvTransposeError` for every combination PyTorch refuses.
public func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                            stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                            outputPadding: (Int, Int) = (0, 0), groups: Int = 1,
                            dilation: (Int, Int) = (1, 1)) throws -> Tensor {
    try convTranspose2d(input, weight: weight, bias: bias, stride: stride, padding: padding,
                        outputPadding: outputPadding, groups: groups, dilation: dilation,
                        threads: Threading.coreCount)
}

/// `convTranspose2d` on an explicit number of worker threads. The result is bit-identical for any `threads`.
public func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                            stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                            outputPadding: (Int, Int) = (0, 0), groups: Int = 1,
                            dilation: (Int, Int) = (1, 1), threads: Int) throws -> Tensor {
    // Validate against the real input first, so errors name the input as PyTorch's do.
    _ = try ConvTranspose2DGeometry(
        inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape,
        stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
    let plan = try ConvTranspose2DPlan(weight: weight, bias: bias, stride: stride, padding: padding,
                                       outputPadding: outputPadding, groups: groups, dilation: dilation)
    return try plan.run(input, threads: threads)
}

/// The plain scatter definition: the oracle the fast kernel is tested against.
public func convTranspose2dReference(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                                     stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                                     outputPadding: (Int, Int) = (0, 0), groups: Int = 1,
                                     dilation: (Int, Int) = (1, 1)) throws -> Tensor {
    let geometry = try ConvTranspose2DGeometry(
        inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape,
        stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
    let data = ConvTranspose2DReference.run(geometry, input: input.data, weight: weight.data, bias: bias?.data)
    return Tensor(shape: outputShape(geometry, batched: input.rank == 4), data: data)
}

private func outputShape(_ g: ConvTranspose2DGeometry, batched: Bool) -> [Int] {
    batched ? [g.batch, g.outChannels, g.outHeight, g.outWidth] : [g.outChannels, g.outHeight, g.outWidth]
}
