// The direct kernel (+Direct: stride-1 3×3 and 1×1 layers with ≥ 32 channels, L1-blocked reduction)
// against the reference scatter kernel over a seeded table of layers, against the narrow kernel bit
// for bit at both vector widths (AVX-512 and AVX2 tiles), and inside the tiled runner.
import Testing
@testable import UpscaleKit

extension ConvTransposeCase {
    /// A random layer the direct kernel takes: 3×3 with 32–130 channels in and out, or 1×1 with 32–192
    /// input channels (RRDBNet's dense concatenations, SPAN's 4-way concat); channel counts that
    /// are and are not multiples of its blocks (16/32/64 lanes) and panels, groups, paddings from
    /// "valid" to wider than the kernel, images narrower and wider than a column chunk, every epilogue.
    static func randomDirect(_ rng: inout SeededRandom, seed: UInt64) -> ConvTransposeCase {
        let groups = [1, 1, 1, 2].randomElement(using: &rng)!
        let pointwise = Int.random(in: 0..<4, using: &rng) == 0
        let cInG = pointwise ? [32, 48, 64, 100, 160, 192].randomElement(using: &rng)!
                             : [32, 33, 40, 48, 64, 65, 96, 128].randomElement(using: &rng)!
        let cOutG = [32, 33, 40, 47, 48, 63, 64, 65, 80, 100, 128, 130].randomElement(using: &rng)!
        let k = pointwise ? 1 : 3
        let padding = (Int.random(in: 0...k, using: &rng), Int.random(in: 0...k, using: &rng))
        let cOut = cOutG * groups
        let epilogues: [Activation] = [.none, .relu, .leakyReLU(0.2), .prelu([0.25]),
                                       .prelu((0..<cOut).map { Float($0 % 7) / 8 - 0.25 })]
        let tiny = Int.random(in: 0..<4, using: &rng) == 0
        return ConvTransposeCase(
            batched: Int.random(in: 0..<4, using: &rng) > 0, n: Int.random(in: 1...2, using: &rng),
            cIn: cInG * groups, cOutG: cOutG, groups: groups,
            h: Int.random(in: 1...(tiny ? 3 : 11), using: &rng), w: Int.random(in: 1...(tiny ? 5 : 75), using: &rng),
            kernel: (k, k), stride: (1, 1), padding: padding, outputPadding: (0, 0), dilation: (1, 1),
            bias: Bool.random(using: &rng), epilogue: epilogues.randomElement(using: &rng)!, seed: seed)
    }

    func plan(kernel: ConvTranspose2DKernelChoice, isa: VectorISA) throws -> ConvTranspose2DPlan {
        let t = tensors()
        return try ConvTranspose2DPlan(weight: t.weight, bias: t.bias, stride: stride, padding: padding,
                                       outputPadding: outputPadding, groups: groups, dilation: dilation,
                                       epilogue: epilogue, kernel: kernel, isa: isa)
    }
}

@Test func directKernelMatchesReferenceAndNarrowKernelOnSeededSweep() throws {
    var rng = SeededRandom(seed: 0xD1_4EC7)
    var checked = 0
    for index in 0..<80 {
        let c = ConvTransposeCase.randomDirect(&rng, seed: 12000 + UInt64(index))
        guard let expected = try? c.reference() else { continue }
        let input = c.tensors().input
        // Both kernels add the same products in the same order (Plan, "Determinism").
        let narrow = try c.plan(kernel: .narrow).run(input, threads: 3)
        for isa in [VectorISA.avx512, .avx2] {
            let direct = try c.plan(kernel: .direct, isa: isa)
            #expect(direct.algorithm == .direct, "the direct kernel should take \(c)")
            let got = try direct.run(input, threads: 2)
            #expect(got.shape == expected.shape, "\(c)")
            // Sums of up to 192·9 products of values in [−1, 1]: magnitudes of order 10–40.
            let close = allClose(got.data, expected.data, rtol: 1e-5, atol: 2e-4)
            #expect(close.ok, "\(isa.rawValue) tiles: max diff \(close.maxDiff) for \(c)")
            #expect(got.data.map(\.bitPattern) == narrow.data.map(\.bitPattern),
                    "\(isa.rawValue) tiles and the narrow kernel differ for \(c)")
        }
        checked += 1
    }
    #expect(checked >= 55, "only \(checked) valid cases")
}

@Test func directKernelTakesExactlyItsLayers() throws {
    func algorithm(_ cIn: Int, _ cOut: Int, _ k: Int, stride: Int = 1, dilation: Int = 1, groups: Int = 1,
                   kernel: ConvTranspose2DKernelChoice = .direct, isa: VectorISA = .current) throws -> ConvTranspose2DAlgorithm {
        try ConvTranspose2DPlan(weight: Tensor(shape: [cIn, cOut / groups, k, k], data: [Float](repeating: 0.5, count: cIn * cOut / groups * k * k)),
                                padding: (k / 2, k / 2), groups: groups, dilation: (dilation, dilation),
                                kernel: kernel, isa: isa).algorithm
    }
    // The automatic choice: Winograd for 3×3 (ConvTransposeWinograd), else the direct kernel on
    // AVX2 (and others), the wide one on AVX-512.
    #expect(try algorithm(64, 64, 3, kernel: .automatic, isa: .avx2) == .winograd)
    #expect(try algorithm(64, 64, 3, kernel: .automatic, isa: .avx512) == .winograd)
    #expect(try algorithm(64, 64, 1, kernel: .automatic, isa: .avx2) == .direct)
    #expect(try algorithm(64, 64, 1, kernel: .automatic, isa: .other) == .direct)
    #expect(try algorithm(64, 64, 1, kernel: .automatic, isa: .avx512) == .wide)
    #expect(try algorithm(64, 64, 3, kernel: .wide, isa: .avx2) == .wide)
    // upconv_7, SRVGGNetCompact, RRDBNet, SPAN: 3×3 and 1×1 with ≥ 32 in and out.
    #expect(try algorithm(64, 64, 3) == .direct)
    #expect(try algorithm(32, 64, 3) == .direct)
    #expect(try algorithm(128, 256, 3) == .direct)
    #expect(try algorithm(192, 64, 1) == .direct)
    #expect(try algorithm(32, 32, 1) == .direct)
    // The built-ins' 16-channel layers and the first layers (3 → 16, 16 → 32) keep the wide kernel,
    // as do dilated and other-sized kernels; stride 2 stays narrow.
    #expect(try algorithm(16, 16, 3) == .wide)
    #expect(try algorithm(16, 32, 3) == .wide)
    #expect(try algorithm(64, 16, 3) == .wide)
    #expect(try algorithm(64, 64, 3, dilation: 2) == .wide)
    #expect(try algorithm(64, 64, 5) == .wide)
    #expect(try algorithm(64, 32, 3, groups: 4) == .narrow)
    #expect(try algorithm(3, 16, 3) == .narrow)
    #expect(try algorithm(12, 56, 1) == .narrow)   // the FSRCNN built-ins' expand layer
    #expect(try algorithm(16, 64, 1) == .wide)
}

@Test func vectorISAReadsTheCPUFlags() {
    #expect(VectorISA.parse(flags: ["fpu", "avx2", "fma", "avx512f", "avx512bw"]) == .avx512)
    #expect(VectorISA.parse(flags: ["fpu", "avx", "avx2", "fma"]) == .avx2)
    #expect(VectorISA.parse(flags: ["fpu", "avx", "fma"]) == .other)
    #expect(VectorISA.avx512.lanes == 16 && VectorISA.avx2.lanes == 8 && VectorISA.other.lanes == 8)
}

@Test func directPanelsAreAsFewAsTheL1BudgetAllows() {
    for channels in [1, 3, 16, 21, 22, 32, 33, 64, 100, 128, 192, 256] {
        for (kW, width) in [(3, 64), (3, 32), (1, 64), (3, 16), (1, 16), (3, 48)] {
            let kc = ConvTranspose2DDirect.panelChannels(channels: channels, kW: kW, width: width)
            let fit = max(1, ConvTranspose2DDirect.panelBytes / (4 * kW * width))   // channels per full panel
            let runs = (channels + kc - 1) / kc
            #expect(kc >= 1 && kc <= min(channels, fit), "channels \(channels) kW \(kW) width \(width): \(kc)")
            #expect(runs == (channels + fit - 1) / fit, "channels \(channels) kW \(kW) width \(width): \(runs) panels of \(kc)")
        }
    }
}

/// Layers that take the direct kernel, in the determinism tests of ConvTranspose2DSweepTests
/// (`determinismCases`: any thread count, cropped inputs): several column chunks, panels and blocks.
let directDeterminismCases: [ConvTransposeCase] = [
    .init(batched: true, n: 1, cIn: 64, cOutG: 64, groups: 1, h: 21, w: 131, kernel: (3, 3), stride: (1, 1),
          padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), bias: true, epilogue: .leakyReLU(0.2), seed: 31),
    .init(batched: true, n: 2, cIn: 96, cOutG: 80, groups: 1, h: 19, w: 77, kernel: (3, 3), stride: (1, 1),
          padding: (2, 2), outputPadding: (0, 0), dilation: (1, 1), bias: true,
          epilogue: .prelu((0..<80).map { Float($0) / 100 }), seed: 32),
    .init(batched: false, n: 1, cIn: 192, cOutG: 33, groups: 1, h: 17, w: 90, kernel: (1, 1), stride: (1, 1),
          padding: (0, 0), outputPadding: (0, 0), dilation: (1, 1), bias: false, epilogue: .relu, seed: 33),
]

@Test func directDeterminismCasesTakeTheDirectKernel() throws {
    for c in directDeterminismCases {
        #expect(try c.plan(kernel: .direct, isa: .avx512).algorithm == .direct, "\(c)")
        let winograd = c.kernel == (3, 3) && c.stride == (1, 1) && c.dilation == (1, 1) && c.groups == 1
        #expect(try c.plan().algorithm == (winograd ? .winograd : ConvTransposeDirectPack.preferred(on: .current) ? .direct : .wide), "\(c)")
    }
}

/// The direct kernel at both tile widths, whatever this CPU's automatic choice: any thread count gives
/// the same bits, and so does every window the tiled runner may ask for (an output window on the input
/// window its taps read), against the whole map's run.
@Test(arguments: directDeterminismCases)
func directKernelIsBitIdenticalForEveryThreadCountAndWindow(_ c: ConvTransposeCase) throws {
    let input = c.tensors().input
    let (n, H, W) = (c.batched ? c.n : 1, c.h, c.w)
    for isa in [VectorISA.avx512, .avx2] {
        let plan = try c.plan(kernel: .direct, isa: isa)
        let whole = try plan.run(input, threads: 1)
        for threads in [2, 3, 7] {
            #expect(try plan.run(input, threads: threads).data == whole.data, "\(isa.rawValue) threads=\(threads) for \(c)")
        }
        let (oH, oW) = (whole.shape[whole.rank - 2], whole.shape[whole.rank - 1])
        let cOut = c.cOutG * c.groups
        let geometryH = AxisGeometry(kernel: c.kernel.0, padding: c.padding.0)
        let geometryW = AxisGeometry(kernel: c.kernel.1, padding: c.padding.1)
        // Windows: interior, at each corner, one row, one column, the whole map.
        for (top, left, rows, columns) in [(3, 5, 7, 29), (0, 0, 5, 31), (oH - 4, oW - 30, 4, 30), (2, 0, 1, oW), (0, 7, oH, 1), (0, 0, oH, oW)] {
            let inRows = geometryH.inputRange(forOutput: top..<(top + rows)).clamped(to: 0..<H)
            let inColumns = geometryW.inputRange(forOutput: left..<(left + columns)).clamped(to: 0..<W)
            for b in 0..<n {
                var window = [Float]()   // (1, Cin, inRows, inColumns)
                for ch in 0..<c.cIn { for h in inRows {
                    let start = ((b * c.cIn + ch) * H + h) * W + inColumns.lowerBound
                    window += input.data[start..<(start + inColumns.count)]
                } }
                var got = [Float](repeating: .nan, count: cOut * rows * columns)   // (1, Cout, rows, columns)
                window.withUnsafeBufferPointer { x in
                    got.withUnsafeMutableBufferPointer { y in
                        plan.runWindow(input: x.baseAddress!, inputOrigin: (inRows.lowerBound, inColumns.lowerBound),
                                       inputSize: (inRows.count, inColumns.count), outputOrigin: (top, left),
                                       outputSize: (rows, columns), output: y.baseAddress!, threads: 2)
                    }
                }
                var want = [Float]()
                for co in 0..<cOut { for h in top..<(top + rows) {
                    let start = ((b * cOut + co) * oH + h) * oW + left
                    want += whole.data[start..<(start + columns)]
                } }
                #expect(got.map(\.bitPattern) == want.map(\.bitPattern),
                        "\(isa.rawValue) window rows \(top)..<\(top + rows) columns \(left)..<\(left + columns) batch \(b) for \(c)")
            }
        }
    }
}

/// An SRVGGNetCompact-like stack (on this CPU's automatic choice of kernel) (3→64, 64→64 ×2 3×3 with PReLU, a 1×1 64→48, a 48→12 3×3 whose
/// pixel shuffle is folded into a 4×4 stride-2 transposed conv 48 → 3 here): tiled runs equal the
/// whole-image run bit for bit, and the whole image equals the same stack on the narrow kernel only.
@Test func directStackTiledEqualsWholeImageAndNarrowKernel() throws {
    var rng = SeededRandom(seed: 26)
    let slopes1 = rng.floats(64, 0...0.3)  // drawn in the order the layers were made before
    let first = randomLayer(&rng, 3, 64, 3, 1, activation: .prelu(slopes1))
    let slopes2 = rng.floats(64, 0...0.3)
    let layers = [first, randomLayer(&rng, 64, 64, 3, 1, activation: .prelu(slopes2)),
                  randomLayer(&rng, 64, 64, 3, 1, activation: .leakyReLU(0.1)),
                  randomLayer(&rng, 64, 48, 1, 0, activation: .relu),
                  randomLayer(&rng, 48, 3, 4, 1, stride: 2, activation: .none)]
    let input = Tensor(shape: [1, 3, 23, 71], data: rng.floats(3 * 23 * 71, 0...1))
    try expectTiledStackEqualsWholeImageAndNarrowKernel(layers, input: input, kernel: .direct,
                                                        tiles: [(1, 2), (5, 3), (9, 1), (16, 2), (128, 2)])
}
