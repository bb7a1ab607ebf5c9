// A reusable conv_transpose2d: weights repacked once, then `run` on any number of inputs/tiles.
//
// Gather form of the scatter definition (see ConvTranspose2D.swift). Write an output row as
// oh = qh·sH + rh (rh ∈ [0, sH) is the row "phase"); a tap kh reaches that row from input row
//   ih = (oh + pH − kh·dH) / sH = qh + offH(rh, kh)    only when (rh + pH − kh·dH) ≡ 0 (mod sH),
// and columns likewise. So every phase (rh, rw) is a plain correlation of the input with the few
// taps that land on it, at integer offsets: the zeros striding inserts are never multiplied.
// A stride-1 layer has one phase, whose taps are the flipped kernel.
//
//   out[n, g·cOutG + co, qh·sH + rh, qw·sW + rw] =
//       bias[co] + Σ_ci Σ_(kh,kw) ∈ taps(rh,rw)  x[n, g·cInG + ci, qh + offH, qw + offW] · W[g·cInG + ci, co, kh, kw]
//
// Determinism: every output element is accumulated as acc = bias; for ci, for kh, for kw (taps of
// its phase, ascending): acc = fma(x, w, acc), in every code path (SIMD body and scalar tail).
// Taps that fall outside the input read a zero (fma(0, w, acc) == acc). The order depends only
// on the layer parameters and the output phase, never on image size, position, tile or threads.

/// The activation applied to every output element as it is stored.
public enum ConvTranspose2DEpilogue: Sendable, Equatable {
    case none
    /// max(x, 0).
    case relu
    /// x < 0 ? x·slope : x.
    case leakyReLU(Float)
    /// x < 0 ? x·slope[c] : x, with one slope per output channel (or one shared slope).
    case prelu([Float])
}

/// conv_transpose2d with its weights repacked once; `run` it on inputs of any size.
///
/// The plan is immutable and `Sendable`: one plan may run on several inputs at the same time.
public struct ConvTranspose2DPlan: Sendable {
    public typealias Epilogue = ConvTranspose2DEpilogue

    public let inChannels: Int
    public let outChannels: Int
    public let groups: Int
    public let kernelSize: (height: Int, width: Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let outputPadding: (Int, Int)
    public let dilation: (Int, Int)
    public let epilogue: Epilogue

    let weightShape: [Int]
    let bias: [Float]?                 // (Cout)
    let negativeSlopes: [Float]        // (Cout), used by .leakyReLU / .prelu
    let phases: PhaseTable
    let packed: [Float]                // (g, phase, coBlock, ci, tap, blockWidth); see `pack`
    let kernelKind: KernelKind

    /// Validates the parameters as PyTorch does and repacks `weight` for the fast kernel.
    ///
    /// - Parameters:
    ///   - weight: `(Cin, Cout/groups, kH, kW)`, PyTorch's layout.
    ///   - bias: `(Cout)` or nil.
    ///   - epilogue: activation fused into the store (`.prelu` takes 1 or Cout slopes).
    /// - Throws: `ConvTransposeError` naming the offending parameter.
    public init(weight: Tensor, bias: Tensor? = nil,
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                outputPadding: (Int, Int) = (0, 0), groups: Int = 1,
                dilation: (Int, Int) = (1, 1), epilogue: Epilogue = .none) throws {
        guard weight.rank == 4 else {
            throw ConvTransposeError("conv_transpose2d: expected a 4D weight (Cin, Cout/groups, kH, kW), but got weight of size \(weight.shape)")
        }
        // Check everything that does not depend on the image with a probe input large enough
        // to give a positive output size; `run` re-validates against the real input.
        let probe = Self.probeSize(padding: padding.0), probeW = Self.probeSize(padding: padding.1)
        let geometry = try ConvTranspose2DGeometry(
            inputShape: [1, weight.shape[0], probe, probeW], weightShape: weight.shape,
            biasShape: bias?.shape, stride: stride, padding: padding, outputPadding: outputPadding,
            groups: groups, dilation: dilation)
        let cOut = geometry.outChannels
        var slopes = [Float](repeating: 0, count: cOut)
        switch epilogue {
        case .none, .relu: break
        case .leakyReLU(let slope): slopes = [Float](repeating: slope, count: cOut)
        case .prelu(let values):
            guard values.count == 1 || values.count == cOut else {
                throw ConvTransposeError("conv_transpose2d: prelu epilogue needs 1 or \(cOut) (Cout) slopes, but got \(values.count)")
            }
            slopes = values.count == 1 ? [Float](repeating: values[0], count: cOut) : values
        }
        self.inChannels = geometry.inChannels
        self.outChannels = cOut
        self.groups = groups
        self.kernelSize = (geometry.kernelHeight, geometry.kernelWidth)
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.epilogue = epilogue
        self.weightShape = weight.shape
        self.bias = bias?.data
        self.negativeSlopes = slopes
        self.phases = PhaseTable(geometry)
        self.kernelKind = geometry.outChannelsPerGroup >= KernelKind.channels.blockWidth ? .channels : .rows
        self.packed = Self.pack(weight.data, geometry, phases, kernelKind)
    }

    /// The shape `run` returns for an input of shape `inputShape`.
    public func outputShape(forInput inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return inputShape.count == 4 ? [g.batch, g.outChannels, g.outHeight, g.outWidth]
                                     : [g.outChannels, g.outHeight, g.outWidth]
    }

    /// Runs the layer on `input` (`(N, Cin, H, W)` or `(Cin, H, W)`) on up to `threads` workers.
    /// The result is bit-identical for every `threads`.
    public func run(_ input: Tensor, threads: Int = Threading.defaultThreads) throws -> Tensor {
        let g = try geometry(for: input.shape)
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                ConvTranspose2DFast.run(self, g, input: x, output: y, threads: threads)
            }
        }
        let shape = input.rank == 4 ? [g.batch, g.outChannels, g.outHeight, g.outWidth]
                                    : [g.outChannels, g.outHeight, g.outWidth]
        return Tensor(shape: shape, data: out)
    }

    func geometry(for inputShape: [Int]) throws -> ConvTranspose2DGeometry {
        try ConvTranspose2DGeometry(
            inputShape: inputShape, weightShape: weightShape, biasShape: bias.map { [$0.count] },
            stride: stride, padding: padding, outputPadding: outputPadding, groups: groups,
            dilation: dilation)
    }

    private static func probeSize(padding: Int) -> Int {
        // (n − 1)·s − 2p + d(k − 1) + 1 > 0 once n − 1 ≥ 2p + 1 (s ≥ 1); wild paddings are clamped
        // (and then refused by the output-size check, as PyTorch refuses them for any sane input).
        2 * max(0, min(padding, 1 << 16)) + 2
    }

    /// Repacks PyTorch's weight into the order the micro-kernels read it.
    // src = W (Cin, Cout/g, kH, kW)                                  -- PyTorch
    // dst = packed (g, phase, coBlock, ci, tap, blockWidth)           -- taps of the phase in (kh, kw) order;
    //       lane j of a block is output channel min(coBlock·blockWidth + j, cOutG − 1) (a short last
    //       block repeats its last channel: the kernel computes it twice and stores the same bits).
    static func pack(_ w: [Float], _ g: ConvTranspose2DGeometry, _ phases: PhaseTable,
                     _ kind: KernelKind) -> [Float] {
        let (cInG, cOutG, kH, kW) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        let bw = kind.blockWidth
        let coBlocks = (cOutG + bw - 1) / bw
        var dst: [Float] = []
        dst.reserveCapacity(g.groups * coBlocks * bw * cInG * phases.totalTaps)
        for grp in 0..<g.groups {
            for phase in phases.phases {
                for block in 0..<coBlocks {
                    for ci in 0..<cInG {
                        for tap in phase.taps {
                            for j in 0..<bw {
                                let co = min(block * bw + j, cOutG - 1)
                                dst.append(w[(((grp * cInG + ci) * cOutG + co) * kH + tap.kh) * kW + tap.kw])
                            }
                        }
                    }
                }
            }
        }
        return dst
    }
}

/// Which register tile the micro-kernel keeps: 4 output channels × 3 vectors of one row, or
/// 4 rows × 3 vectors of one channel (for layers with fewer than 4 output channels per group).
enum KernelKind: Sendable {
    case channels, rows

    /// Output channels per packed weight block.
    var blockWidth: Int {
        switch self {
        case .channels: return 4
        case .rows: return 1
        }
    }
}

/// One output phase (rh, rw): the taps that reach it and where they read the input.
struct Phase: Sendable {
    struct Tap: Sendable { var kh: Int, kw: Int, offH: Int, offW: Int }
    var rh: Int, rw: Int
    var taps: [Tap]          // (kh, kw) ascending
}

/// The sub-pixel decomposition of a layer: pure integer geometry, no arithmetic on values.
struct PhaseTable: Sendable {
    var phases: [Phase]      // rh-major, rw-minor
    var totalTaps: Int
    var minOffH: Int, maxOffH: Int, minOffW: Int, maxOffW: Int

    init(_ g: ConvTranspose2DGeometry) {
        func offsets(phase r: Int, stride s: Int, pad p: Int, kernel k: Int, dilation d: Int) -> [(Int, Int)] {
            var list: [(Int, Int)] = []
            for t in 0..<k {
                let num = r + p - t * d
                if ((num % s) + s) % s == 0 { list.append((t, num / s)) }
            }
            return list
        }
        var phases: [Phase] = []
        var (minH, maxH, minW, maxW) = (0, 0, 0, 0)
        var first = true
        for rh in 0..<g.strideH {
            let rows = offsets(phase: rh, stride: g.strideH, pad: g.padH, kernel: g.kernelHeight, dilation: g.dilationH)
            for rw in 0..<g.strideW {
                let cols = offsets(phase: rw, stride: g.strideW, pad: g.padW, kernel: g.kernelWidth, dilation: g.dilationW)
                var taps: [Phase.Tap] = []
                for (kh, offH) in rows {
                    for (kw, offW) in cols {
                        taps.append(.init(kh: kh, kw: kw, offH: offH, offW: offW))
                        if first { (minH, maxH, minW, maxW) = (offH, offH, offW, offW); first = false }
                        minH = min(minH, offH); maxH = max(maxH, offH)
                        minW = min(minW, offW); maxW = max(maxW, offW)
                    }
                }
                phases.append(Phase(rh: rh, rw: rw, taps: taps))
            }
        }
        self.phases = phases
        self.totalTaps = phases.reduce(0) { $0 + $1.taps.count }
        (minOffH, maxOffH, minOffW, maxOffW) = (minH, maxH, minW, maxW)
    }
}
