// A reusable conv_transpose2d: weights repacked once for the fast kernel, then `run` on any
// number of inputs or tiles. The math is in ConvTranspose2D.swift, the phase geometry in
// ConvTranspose2D+Phases.swift, the kernels in ConvTranspose2D+Fast.swift (pixels in SIMD lanes, every
// layer), ConvTranspose2D+Wide.swift (output channels in SIMD lanes, stride-1 layers with many channels)
// and ConvTranspose2D+Direct.swift (+Wide's tiles over an L1-blocked reduction, stride-1 3×3 and 1×1
// layers with ≥ 32 channels), ConvTranspose2D+Subpixel.swift (+Fast with every column phase in one tile,
// stride-2 layers with 3 output channels), and ConvTranspose2D+Winograd.swift (F(4×4, 3×3), stride-1 3×3 layers with
// ≥ 32 channels, its own rounding: see "Determinism" there). `algorithm` says which one a plan runs.
//
//   out[n, g·cOutG + co, oh, ow] = act( bias[co'] + Σ_ci Σ_(a, b) x[n, g·cInG + ci, q + offH[a], r + offW[b]] · W[ci', co, kh[a], kw[b]] )
//
// where (oh, ow) = (q·sH + ph − pH, r·sW + pw − pW) and (a, b) run over the taps of phase (ph, pw).
//
// Determinism: each output element is acc = bias; then for its phase's row taps a, for ci ascending,
// for its column taps b (taps in canonical order, see +Phases): acc = fma(x, w, acc); then the
// activation (all kernels but +Winograd). Taps whose input lies outside the
// image read an exact zero. This order depends only on the layer parameters, never on the image
// size, the element's position, the tile, the thread count or the blocking.

import Foundation

/// conv_transpose2d with its weights repacked once; `run` it on inputs of any size.
///
/// Immutable and `Sendable`: one plan may run on several inputs at the same time.
public struct ConvTranspose2DPlan: Sendable {
    /// The activation after the conv: none, relu, leaky ReLU and PReLU are fused into the kernel's
    /// store; sigmoid, tanh and SiLU are applied to the output afterwards (`unfused`).
    public typealias Epilogue = Activation

    public let inChannels: Int
    public let outChannels: Int
    public let groups: Int
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let outputPadding: (Int, Int)
    public let dilation: (Int, Int)
    public let epilogue: Epilogue

    let weightShape: [Int]             // (Cin, Cout/g, kH, kW)
    let probeGeometry: ConvTranspose2DGeometry  // on a (1, Cin, 2·pH + 1, 2·pW + 1) input; see runWindow
    let hasBias: Bool
    let biasValues: [Float]            // (Cout), zeros without bias
    let slopes: [Float]                // (Cout), negative-side slopes for .leakyReLU / .prelu
    let activation: ConvTransposeActivationMode
    let unfused: Activation?           // applied after the kernel, element by element
    let phasesH: [ConvTransposeAxisPhase]   // sH phases
    let phasesW: [ConvTransposeAxisPhase]   // sW phases
    let blocks: [ConvTransposeChannelBlock] // output channels of a group, in kernel-sized blocks
    let slotTables: [[ConvTransposeSlotTable]] // [rows index][group], rows ∈ ConvTransposeKernelShape.rowChoices
    let packed: [Float]                // (g, block, ph, pw, a, ci, b, c); see `pack`; empty with `wide`
    let packedOffsets: [Int]           // (g, block, ph, pw) -> start in `packed`
    /// The wide kernel's weights when the layer takes it (stride 1, many channels: +Wide), else nil.
    let wide: ConvTransposeWidePack?
    /// The direct kernel's weights when the layer takes it (stride-1 3×3 and 1×1, ≥ 32 channels:
    /// +Direct), else nil. At most one of `wide` and `direct` is set.
    let direct: ConvTransposeDirectPack?
    /// The Winograd kernel's transformed weights when the layer takes it (+Winograd: stride-1 3×3,
    /// `ConvTransposeWinograd.tile`), else nil. When set, `wide`, `direct` and `packed` are empty.
    let winograd: ConvTransposeWinogradPack?
    /// The sub-pixel kernel's register tile when the layer takes it (+Subpixel: stride-2 columns,
    /// 3 output channels), else nil. It runs on `packed`, +Fast's weights.
    let subpixel: ConvTransposeSubpixelShape?

    /// Bytes of the weights as this plan holds them (repacked for its kernel, with bias and
    /// slopes): what a run's memory estimate counts beside the weights as loaded. A Winograd
    /// layer's transformed weights are 36/9 = 4× its 3×3 kernel.
    var packedBytes: Int {
        let kernelFloats = packed.count + (wide.map { $0.packed.count + $0.bias.count + $0.slopes.count } ?? 0)
            + (direct.map { $0.packed.count + $0.bias.count + $0.slopes.count } ?? 0)
            + (winograd.map { $0.transformed.count + $0.bias.count + $0.slopes.count } ?? 0)
        return 4 * (kernelFloats + biasValues.count + slopes.count)
    }

    /// The kernel this plan runs: the layer's algorithm, as `upscale info` reports it.
    public var algorithm: ConvTranspose2DAlgorithm {
        winograd != nil ? .winograd : direct != nil ? .direct : wide != nil ? .wide
            : subpixel != nil ? .subpixel : .narrow
    }

    /// Validates the layer parameters as PyTorch does and repacks `weight` for the fast kernel.
    ///
    /// - Parameters:
    ///   - weight: `(Cin, Cout/groups, kH, kW)`, PyTorch's layout.
    ///   - bias: `(Cout)` or nil.
    ///   - epilogue: the activation after the conv (`.prelu` takes 1 or Cout slopes).
    ///   - kernel: `.automatic` (the Winograd kernel where `ConvTransposeWinograd.tile` says and
    ///     `ConvTransposeWinograd.automaticEnabled`, else the direct kernel where it applies and suits
    ///     `isa`, else the wide one where it applies, else the sub-pixel one where it applies and suits
    ///     `isa`), `.winograd`, `.direct`, `.wide`, `.subpixel` or `.narrow` (tests and benchmarks
    ///     compare them; all but `.winograd` give the same bits).
    ///   - isa: the instruction set the direct kernel's register tiles are sized for: this CPU's
    ///     (`VectorISA.current`) unless a test or benchmark asks for the other tiles (same bits).
    /// - Throws: `ConvTransposeError` naming the offending parameter.
    public init(weight: Tensor, bias: Tensor? = nil,
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                outputPadding: (Int, Int) = (0, 0), groups: Int = 1,
                dilation: (Int, Int) = (1, 1), epilogue: Epilogue = .none,
                kernel: ConvTranspose2DKernelChoice = .automatic, isa: VectorISA = .current) throws {
        let geometry = try Self.check(weightShape: weight.shape, biasShape: bias?.shape, stride: stride, padding: padding,
                                      outputPadding: outputPadding, groups: groups, dilation: dilation, epilogue: epilogue)
        let cOut = geometry.outChannels
        var slopes = [Float](repeating: 0, count: cOut)
        var activation = ConvTransposeActivationMode.identity
        switch epilogue {
        case .none: break
        case .relu: activation = .relu
        case .leakyReLU(let slope):
            slopes = [Float](repeating: slope, count: cOut)
            activation = .slopes
        case .prelu(let values):
            slopes = values.count == 1 ? [Float](repeating: values[0], count: cOut) : values
            activation = .slopes
        case .sigmoid, .tanh, .silu:
            break
        }
        switch epilogue {
        case .sigmoid, .tanh, .silu: self.unfused = epilogue
        case .none, .relu, .leakyReLU, .prelu: self.unfused = nil
        }
        self.inChannels = geometry.inChannels
        self.outChannels = cOut
        self.groups = groups
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.epilogue = epilogue
        self.weightShape = weight.shape
        self.probeGeometry = geometry
        self.hasBias = bias != nil
        self.biasValues = bias?.data ?? [Float](repeating: 0, count: cOut)
        self.slopes = slopes
        self.activation = activation
        let phasesH = ConvTransposeAxisPhase.phases(kernel: geometry.kernelHeight, stride: stride.0, dilation: dilation.0)
        let phasesW = ConvTransposeAxisPhase.phases(kernel: geometry.kernelWidth, stride: stride.1, dilation: dilation.1)
        self.phasesH = phasesH
        self.phasesW = phasesW
        self.slotTables = ConvTransposeKernelShape.rowChoices.map { ConvTransposeSlotTable.tables(phasesH, rows: $0) }
        self.blocks = ConvTransposeChannelBlock.split(geometry.outChannelsPerGroup)
        let takesWinograd = kernel == .winograd || (kernel == .automatic && ConvTransposeWinograd.automaticEnabled)
        let takesSubpixel = kernel == .subpixel
            || (kernel != .narrow && kernel != .wide && ConvTransposeSubpixelShape.preferred(geometry, on: isa))
        let takesDirect = kernel == .direct
            || ((kernel == .automatic || kernel == .winograd) && ConvTransposeDirectPack.preferred(on: isa))
        if takesWinograd && ConvTransposeWinograd.tile(geometry) != nil {
            self.winograd = ConvTransposeWinogradPack(weight: weight.data, bias: biasValues, slopes: slopes, geometry,
                                                      isa: isa)
            (self.direct, self.wide, self.subpixel) = (nil, nil, nil)
            (self.packed, self.packedOffsets) = ([], [])
        } else if takesDirect && ConvTransposeDirectPack.applies(geometry) {
            self.winograd = nil
            self.direct = ConvTransposeDirectPack(weight: weight.data, bias: biasValues, slopes: slopes, geometry,
                                                  isa: isa)
            self.wide = nil
            self.subpixel = nil
            (self.packed, self.packedOffsets) = ([], [])
        } else if kernel != .narrow && ConvTransposeWidePack.applies(geometry) {
            self.winograd = nil
            self.direct = nil
            self.wide = ConvTransposeWidePack(weight: weight.data, bias: biasValues, slopes: slopes, geometry)
            self.subpixel = nil
            (self.packed, self.packedOffsets) = ([], [])
        } else {
            self.winograd = nil
            self.direct = nil
            self.wide = nil
            self.subpixel = takesSubpixel ? ConvTransposeSubpixelShape.shape(geometry, phasesW: phasesW) : nil
            (self.packed, self.packedOffsets) = Self.pack(weight.data, geometry, blocks, phasesH, phasesW)
        }
    }

    /// Every check of the layer's parameters that does not depend on the image, as PyTorch makes
    /// them (on a probe input of 2·pad + 1 pixels, which always has a positive output size; `run`
    /// re-validates against the real input), and the epilogue's slope count.
    /// - Returns: the probe's geometry.
    /// - Throws: `ConvTransposeError` naming the offending parameter.
    @discardableResult
    public static func check(weightShape: [Int], biasShape: [Int]?, stride: (Int, Int), padding: (Int, Int),
                             outputPadding: (Int, Int), groups: Int, dilation: (Int, Int),
                             epilogue: Epilogue) throws -> ConvTranspose2DGeometry {
        guard weightShape.count == 4 else {
            throw ConvTransposeError("conv_transpose2d: expected a 4D weight (Cin, Cout/groups, kH, kW), but got weight of size \(weightShape)")
        }
        let geometry = try ConvTranspose2DGeometry(
            inputShape: [1, weightShape[0], 2 * padding.0 + 1, 2 * padding.1 + 1],
            weightShape: weightShape, biasShape: biasShape, stride: stride, padding: padding,
            outputPadding: outputPadding, groups: groups, dilation: dilation)
        if case .prelu(let values) = epilogue, values.count != 1 && values.count != geometry.outChannels {
            throw ConvTransposeError("conv_transpose2d: prelu has \(values.count) slopes, expected 1 or \(geometry.outChannels) (Cout)")
        }
        return geometry
    }

    /// The shape `run` returns for an input of shape `inputShape`.
    public func outputShape(forInput inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return inputShape.count == 4 ? [g.batch, g.outChannels, g.outHeight, g.outWidth]
                                     : [g.outChannels, g.outHeight, g.outWidth]
    }

    /// Runs the layer on `input` (`(N, Cin, H, W)` or unbatched `(Cin, H, W)`) on up to `threads`
    /// workers. The result is bit-identical for every `threads`. `tilePhase`: where the Winograd
    /// kernel's tiles start (see `runWindow`).
    /// - Throws: `ConvTransposeError` when the input does not fit the layer.
    public func run(_ input: Tensor, tilePhase: (Int, Int) = (0, 0), threads: Int = Threading.coreCount) throws -> Tensor {
        let g = try geometry(for: input.shape)
        // The kernel writes every element exactly once, so the storage starts uninitialised.
        return Tensor(shape: try outputShape(forInput: input.shape)) { y in
            adviseHugePages(UnsafeMutableRawBufferPointer(y))
            input.withUnsafeBufferPointer { x in
                ConvTranspose2DFast.run(self, g, input: x, output: y, outputOrigin: (-tilePhase.0, -tilePhase.1),
                                        threads: threads)
            }
            unfused?.apply(y, channels: g.outChannels, plane: g.outHeight * g.outWidth)
        }
    }

    /// A window of the layer's output on a window of its input, into caller-owned storage: the
    /// tiled runner's call (no allocation, no crop, no work outside the window). Batch 1.
    ///
    /// The input is a feature map of which `input` holds the rows `inputOrigin.0 ..< + inputSize.0`
    /// and columns `inputOrigin.1 ..< + inputSize.1`, (1, Cin, inputSize.0, inputSize.1); the call
    /// writes the layer's output rows `outputOrigin.0 ..< + outputSize.0` and columns likewise,
    /// (1, Cout, outputSize.0, outputSize.1), to `output`. Taps that land outside the input window
    /// read zeros. When every tap of the output window that lands inside the whole feature map
    /// lands inside the input window (the runner's windows are made so: TilePlan), each element
    /// equals the whole-map run's bit for bit: it is the same conv with the padding shifted by
    ///   pad' = outputOrigin − inputOrigin·stride + pad
    /// and the kernel's per-element order depends on neither (see "Determinism" above).
    /// The Winograd kernel (`algorithm == .winograd`) computes whole 4×4 tiles of the layer's whole
    /// output map (anchored at `tilePhase` plus multiples of 4, in the map's coordinates, which
    /// `outputOrigin` locates the window in; the layer's `rowGeometry.phase`, 0 for columns): its
    /// window equals the whole-map run bit for bit when the input window holds every in-map input
    /// of the whole tiles touching the output window (`ConvTransposeWinograd.tile`, +Winograd).
    /// `inputLayout`, `outputLayout`: where the input window's elements lie in `input` and the
    /// output window's go in `output` (strides and a ring of row slots, ConvTranspose2D+Layout.swift),
    /// e.g. a caller's rows read and written in place; nil: dense (1, Cin, inputSize.0, inputSize.1)
    /// and (1, Cout, outputSize.0, outputSize.1). The layouts change no value.
    public func runWindow(input: UnsafePointer<Float>, inputOrigin: (Int, Int), inputSize: (Int, Int),
                          inputLayout: ConvTransposeMapLayout? = nil, outputOrigin: (Int, Int), outputSize: (Int, Int),
                          output: UnsafeMutablePointer<Float>, outputLayout: ConvTransposeMapLayout? = nil,
                          tilePhase: (Int, Int) = (0, 0), threads: Int = Threading.coreCount) {
        precondition(inputSize.0 >= 0 && inputSize.1 >= 0 && outputSize.0 >= 0 && outputSize.1 >= 0, "window sizes")
        var g = probeGeometry
        g.batch = 1
        (g.inHeight, g.inWidth) = inputSize
        g.padH = outputOrigin.0 - inputOrigin.0 * stride.0 + padding.0
        g.padW = outputOrigin.1 - inputOrigin.1 * stride.1 + padding.1
        (g.outPadH, g.outPadW) = (0, 0)   // the window's size is given, not derived
        (g.outHeight, g.outWidth) = outputSize
        // The Winograd kernel anchors its tiles at multiples of 4 from the origin it is given.
        let gridOrigin = (outputOrigin.0 - tilePhase.0, outputOrigin.1 - tilePhase.1)
        let layout = outputLayout ?? .dense(channels: outChannels, height: outputSize.0, width: outputSize.1)
        ConvTranspose2DFast.run(self, g, input: input, inputLayout: inputLayout, output: output, outputLayout: layout,
                                outputOrigin: gridOrigin, threads: threads)
        guard let unfused else { return }
        if layout.rowsContiguous(outputSize.0, width: outputSize.1) {   // each channel's rows one run
            for c in 0..<outChannels {
                unfused.apply(UnsafeMutableBufferPointer(start: output + layout.offset(0, c, 0),
                                                         count: outputSize.0 * outputSize.1),
                              channels: 1, plane: outputSize.0 * outputSize.1)
            }
        } else {
            for c in 0..<outChannels {
                for oh in 0..<outputSize.0 {
                    unfused.apply(UnsafeMutableBufferPointer(start: output + layout.offset(0, c, oh), count: outputSize.1),
                                  channels: 1, plane: outputSize.1)
                }
            }
        }
    }

    /// The validated geometry of this layer on an input of shape `inputShape`.
    public func geometry(for inputShape: [Int]) throws -> ConvTranspose2DGeometry {
        try ConvTranspose2DGeometry(
            inputShape: inputShape, weightShape: weightShape, biasShape: hasBias ? [outChannels] : nil,
            stride: stride, padding: padding, outputPadding: outputPadding,
            groups: groups, dilation: dilation)
    }

    // src = weight (Cin, Cout/g, kH, kW), PyTorch's layout
    // dst = packed (g, block, ph, pw, a, ci, b, c): for each group, block of output channels and
    //       phase: row tap a, input channel, column tap b (taps in canonical order), the block's
    //       channels innermost (what the kernel broadcasts one after another): the order in which
    //       the kernel walks them.
    static func pack(_ w: [Float], _ g: ConvTranspose2DGeometry, _ blocks: [ConvTransposeChannelBlock],
                     _ phasesH: [ConvTransposeAxisPhase], _ phasesW: [ConvTransposeAxisPhase]) -> ([Float], [Int]) {
        let (cInG, cOutG, kH, kW) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        var packed: [Float] = []
        packed.reserveCapacity(g.inChannels * cOutG * kH * kW)
        var offsets: [Int] = []
        for grp in 0..<g.groups {
            for block in blocks {
                for ph in phasesH {
                    for pw in phasesW {
                        offsets.append(packed.count)
                        for kh in ph.taps {
                            for ci in 0..<cInG {
                                for kw in pw.taps {
                                    for c in 0..<block.count {
                                        let co = block.start + c
                                        packed.append(w[(((grp * cInG + ci) * cOutG + co) * kH + kh) * kW + kw])
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (packed, offsets)
    }

    func packedOffset(group: Int, block: Int, ph: Int, pw: Int) -> Int {
        packedOffsets[((group * blocks.count + block) * phasesH.count + ph) * phasesW.count + pw]
    }
}

/// Which kernel a plan runs.
public enum ConvTranspose2DKernelChoice: Sendable, Equatable {
    /// The direct kernel (+Direct: stride-1 3×3 and 1×1, ≥ 32 channels) where it applies and the CPU
    /// is not AVX-512 (`ConvTransposeDirectPack.preferred`), else the wide kernel (+Wide: stride 1,
    /// many channels) where it applies, else the sub-pixel kernel (+Subpixel: stride-2 columns, 3
    /// output channels, ≥ 16 input channels) where it applies and the CPU is AVX-512, else the narrow one.
    case automatic
    /// The direct kernel where it applies, whatever the CPU; else as `.automatic`.
    case direct
    /// The wide kernel where it applies, else the narrow one: never the direct or sub-pixel kernel.
    case wide
    /// Always the narrow kernel (+Fast).
    case narrow
    /// The sub-pixel kernel (+Subpixel: stride-2 columns, 3 output channels) where it applies,
    /// whatever the CPU; elsewhere as `.wide`.
    case subpixel
    /// The Winograd kernel (+Winograd) where it applies (`ConvTransposeWinograd.tile`), whatever
    /// `ConvTransposeWinograd.automaticEnabled` says; elsewhere as `.automatic`. Not bit-identical
    /// to the other kernels (float rounding), but to itself over every window, thread count and ISA.
    case winograd
}

/// The kernel a plan runs, as `upscale info` shows it. All give the same bits for the same layer.
public enum ConvTranspose2DAlgorithm: String, Sendable, Equatable {
    /// +Fast: sub-pixel phases, output pixels in SIMD lanes; every layer.
    case narrow
    /// +Subpixel: +Fast with every column phase in one register tile; stride-2 columns, 3
    /// output channels, ≥ 16 input channels (upconv_7's 256 → 3 tail), on AVX-512.
    case subpixel
    /// +Wide: output channels in SIMD lanes; stride-1 layers with ≥ 16 channels.
    case wide
    /// +Direct: +Wide's tiles over a reduction blocked for L1; stride-1 3×3 and 1×1 layers with ≥ 32 channels.
    case direct
    /// +Winograd: F(4×4, 3×3) on a tile grid anchored to the whole output map; stride-1 3×3 layers
    /// with ≥ 32 channels (`ConvTransposeWinograd.tile`).
    case winograd
}

/// How the epilogue treats an accumulated value (slopes come from the plan, per channel).
enum ConvTransposeActivationMode: Sendable {
    case identity, relu, slopes

    // The kernels' fused epilogue, one overload per vector type the kernels use (+Fast: SIMD8;
    // +Wide, +Subpixel: SIMD16). Concrete on purpose: one generic function over SIMD made the x2
    // CLI run 1.6x slower (2026-12-03, Zen 4), even with @_specialize; the compiler did not inline
    // it into the kernels' stores.
    @inline(__always)
    func apply(_ x: SIMD8<Float>, slope: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .identity: return x
        case .relu: return x.replacing(with: 0, where: x .< 0)
        case .slopes: return x.replacing(with: x * slope, where: x .< 0)
        }
    }

    @inline(__always)
    func apply(_ x: SIMD16<Float>, slope: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .identity: return x
        case .relu: return x.replacing(with: 0, where: x .< 0)
        case .slopes: return x.replacing(with: x * slope, where: x .< 0)
        }
    }
}

/// A run of output channels of one group that one kernel call accumulates together.
struct ConvTransposeChannelBlock: Equatable, Sendable {
    var start: Int
    var count: Int
    var shape: ConvTransposeKernelShape

    /// Blocks of 4 channels, then one block for the remaining 1–3.
    static func split(_ cOutG: Int) -> [ConvTransposeChannelBlock] {
        var blocks: [ConvTransposeChannelBlock] = []
        var start = 0
        while cOutG - start >= 4 {
            blocks.append(.init(start: start, count: 4, shape: .channels4))
            start += 4
        }
        switch cOutG - start {
        case 3: blocks.append(.init(start: start, count: 3, shape: .channels3))
        case 2: blocks.append(.init(start: start, count: 2, shape: .channels2))
        case 1: blocks.append(.init(start: start, count: 1, shape: .channels1))
        default: break
        }
        return blocks
    }
}

/// The register tiles of the kernel: output channels × output rows × SIMD8 vectors of pixels.
enum ConvTransposeKernelShape: Sendable {
    case channels4   // 4 channels × 1 row × 3 vectors
    case channels3   // 3 channels × 1 row × 3 vectors
    case channels2   // 2 channels × 2 rows × 3 vectors
    case channels1   // 1 channel  × 4 rows × 3 vectors

    /// Pixels per row of every tile (3 SIMD8 vectors).
    static let pixels = 24
    /// Output rows of a block of work; every tile's row count divides it.
    static let blockRows = 4
    static let rowChoices = [1, 2, 4]

    var rows: Int {
        switch self {
        case .channels4, .channels3: return 1
        case .channels2: return 2
        case .channels1: return 4
        }
    }
    var rowChoiceIndex: Int { rows == 1 ? 0 : rows == 2 ? 1 : 2 }
}
