// The Winograd kernel (+Winograd: F(4×4, 3×3), stride-1 3×3 layers with ≥ 32 channels) against the
// reference scatter kernel over a seeded table of layers and against PyTorch's golden outputs, and
// its determinism contract: the same bits for every window (tile grid anchored to the whole map),
// thread count and vector width.
import Testing
@testable import UpscaleKit

extension ConvTransposeCase {
    /// A random layer the Winograd kernel takes: 3×3, stride 1, one group, 32–256 channels in and
    /// out (multiples of the 12- and 6-channel register blocks and not), padding 0–2 per axis (p = 3
    /// crops more than the kernel reaches), odd sizes narrower and wider than a block of tiles,
    /// every fused epilogue.
    static func randomWinograd(_ rng: inout SeededRandom, seed: UInt64) -> ConvTransposeCase {
        let cIn = [32, 33, 48, 64, 65, 96, 128, 256].randomElement(using: &rng)!
        let cOut = [32, 35, 47, 48, 64, 100, 128, 256].randomElement(using: &rng)!
        let epilogues: [Activation] = [.none, .relu, .leakyReLU(0.2), .prelu([0.25]),
                                       .prelu((0..<cOut).map { Float($0 % 7) / 8 - 0.25 })]
        let small = cIn * cOut > 128 * 128   // keep the reference kernel's work bounded
        return ConvTransposeCase(
            batched: Int.random(in: 0..<4, using: &rng) > 0, n: Int.random(in: 1...2, using: &rng),
            cIn: cIn, cOutG: cOut, groups: 1,
            h: Int.random(in: 1...(small ? 6 : 13), using: &rng), w: Int.random(in: 1...(small ? 23 : 150), using: &rng),
            kernel: (3, 3), stride: (1, 1),
            padding: (Int.random(in: 0...3, using: &rng), Int.random(in: 0...3, using: &rng)),
            outputPadding: (0, 0), dilation: (1, 1),
            bias: Bool.random(using: &rng), epilogue: epilogues.randomElement(using: &rng)!, seed: seed)
    }

    /// The reference kernel on |input| and |weight|, no bias: Σ |x·w| per output element, the scale
    /// of its rounding error.
    func absoluteSums() throws -> Tensor {
        let t = tensors()
        return try convTranspose2dReference(Tensor(shape: t.input.shape, data: t.input.data.map(abs)),
                                            weight: Tensor(shape: t.weight.shape, data: t.weight.data.map(abs)),
                                            stride: stride, padding: padding, outputPadding: outputPadding,
                                            groups: groups, dilation: dilation)
    }
}

/// The error bound of the Winograd kernel, in units of Float's epsilon times the largest Σ|x·w| of
/// a case's outputs (the scale of any float sum of those products). The transforms weight the
/// inputs and the products by up to 5 and 8 and the sum of 36 products per ξ cancels back down to
/// the output, so Winograd's error is several times the direct sum's (about 1 ε·Σ|x·w|, which the
/// fixture tolerance atol 1e-5 + rtol 1e-5 was set for). Measured (2026-12-07): at most 5.3 on the
/// seeded sweep below (Lavin's points 0, ±1, ±2 gave 14.7) and 4.2 on the widened PyTorch goldens.
let winogradErrorBound: Float = 8

@Test func winogradKernelMatchesReferenceOnSeededSweep() throws {
    var rng = SeededRandom(seed: 0x3141_5926)
    var checked = 0
    var worst: Float = 0
    for index in 0..<60 {
        let c = ConvTransposeCase.randomWinograd(&rng, seed: 26000 + UInt64(index))
        guard let expected = try? c.reference() else { continue }   // p = 3 on a 1-pixel input: no output
        let input = c.tensors().input
        let scale = try c.absoluteSums().data.max() ?? 0
        for isa in [VectorISA.avx512, .avx2] {
            let plan = try c.plan(kernel: .winograd, isa: isa)
            #expect(plan.algorithm == .winograd, "the Winograd kernel should take \(c)")
            let got = try plan.run(input, threads: 2)
            #expect(got.shape == expected.shape, "\(c)")
            let tolerance = winogradErrorBound * Float.ulpOfOne * scale
            let close = allClose(got.data, expected.data, rtol: 0, atol: tolerance)
            #expect(close.ok, "\(isa.rawValue): max diff \(close.maxDiff) > \(tolerance) for \(c)")
            worst = max(worst, close.maxDiff / (Float.ulpOfOne * scale))
        }
        checked += 1
    }
    #expect(checked >= 50, "only \(checked) valid cases")
    print("Winograd sweep: worst error \(worst) ε · max Σ|x·w|")
}

/// PyTorch's golden outputs (Fixtures/convt) of the 3×3 stride-1 one-group layers, widened to the
/// kernel's 32 channels with zero inputs and zero weights (which add exact zeros): within the
/// fixture test's tolerance (rtol 1e-5, atol 1e-5) or the Winograd bound above, whichever is wider.
/// (No golden case takes the kernel itself: they have ≤ 6 channels. wide_interior, outputs up to
/// 20.6 from sums of |x·w| up to 33, misses atol 1e-5: 1.66e-5, i.e. 4.2 ε·Σ|x·w|.)
@Test func winogradKernelMatchesPyTorchGoldens() throws {
    let cases = ConvTransposeFixture.valid.filter {
        $0.weight_shape[2] == 3 && $0.weight_shape[3] == 3 && $0.stride == [1, 1] && $0.dilation == [1, 1]
            && $0.groups == 1 && $0.output_padding == [0, 0]
    }
    #expect(cases.count >= 5, "\(cases.map(\.name))")
    let wide = 32
    for fixture in cases {
        let t = fixture.tensors
        let batched = fixture.input_shape.count == 4
        let (n, cIn, h, w) = batched ? (fixture.input_shape[0], fixture.input_shape[1], fixture.input_shape[2], fixture.input_shape[3])
                                     : (1, fixture.input_shape[0], fixture.input_shape[1], fixture.input_shape[2])
        let cOut = fixture.weight_shape[1]
        var input = [Float](repeating: 0, count: n * wide * h * w)        // (n, 32, h, w)
        for b in 0..<n { for c in 0..<cIn { for i in 0..<(h * w) {
            input[(b * wide + c) * h * w + i] = t.input.data[(b * cIn + c) * h * w + i]
        } } }
        var weight = [Float](repeating: 0, count: wide * wide * 9)          // (32, 32, 3, 3)
        for ci in 0..<cIn { for co in 0..<cOut { for k in 0..<9 {
            weight[(ci * wide + co) * 9 + k] = t.weight.data[(ci * cOut + co) * 9 + k]
        } } }
        var bias = [Float](repeating: 0, count: wide)
        if let b = t.bias { for co in 0..<cOut { bias[co] = b.data[co] } }
        let plan = try ConvTranspose2DPlan(weight: Tensor(shape: [wide, wide, 3, 3], data: weight),
                                           bias: Tensor(shape: [wide], data: bias),
                                           padding: (fixture.padding[0], fixture.padding[1]), kernel: .winograd)
        #expect(plan.algorithm == .winograd)
        let out = try plan.run(Tensor(shape: [n, wide, h, w], data: input), threads: 2)
        let (oH, oW) = (out.shape[2], out.shape[3])
        var got = [Float]()                                                // the first cOut channels
        for b in 0..<n { for co in 0..<cOut {
            let start = (b * wide + co) * oH * oW
            got += out.data[start..<(start + oH * oW)]
        } }
        let expected = ConvTransposeFixture.floats(fixture.output ?? "")
        let scale = try convTranspose2dReference(Tensor(shape: [n, cIn, h, w], data: t.input.data.map(abs)),
                                                 weight: Tensor(shape: t.weight.shape, data: t.weight.data.map(abs)),
                                                 padding: (fixture.padding[0], fixture.padding[1])).data.max() ?? 0
        let tolerance = max(1e-5, winogradErrorBound * Float.ulpOfOne * scale)
        let close = allClose(got, expected, rtol: 1e-5, atol: tolerance)
        #expect(got.count == expected.count && close.ok, "\(fixture.name): max diff \(close.maxDiff) > \(tolerance)")
    }
}

@Test func winogradTakesExactlyItsLayers() throws {
    func tile(_ cIn: Int, _ cOut: Int, _ k: Int = 3, stride: Int = 1, dilation: Int = 1, groups: Int = 1) -> Int? {
        ConvTransposeWinograd.tile(kernel: (k, k), stride: (stride, stride), dilation: (dilation, dilation),
                                   groups: groups, inChannels: cIn, outChannels: cOut)
    }
    #expect(tile(32, 32) == 4 && tile(64, 64) == 4 && tile(128, 256) == 4 && tile(192, 32) == 4)
    // The built-ins' 16-channel layers, first and last layers, other kernels, strides, dilations, groups.
    #expect(tile(16, 16) == nil && tile(16, 32) == nil && tile(64, 16) == nil && tile(3, 64) == nil && tile(64, 3) == nil)
    #expect(tile(64, 64, 1) == nil && tile(64, 64, 5) == nil && tile(64, 64, stride: 2) == nil)
    #expect(tile(64, 64, dilation: 2) == nil && tile(64, 64, groups: 2) == nil)
    #expect(ConvTransposeWinograd.tile(kernel: (3, 1), stride: (1, 1), dilation: (1, 1), groups: 1,
                                       inChannels: 64, outChannels: 64) == nil)

    func algorithm(_ cIn: Int, _ cOut: Int, _ k: Int, kernel: ConvTranspose2DKernelChoice) throws -> ConvTranspose2DAlgorithm {
        try ConvTranspose2DPlan(weight: Tensor(shape: [cIn, cOut, k, k], data: [Float](repeating: 0.5, count: cIn * cOut * k * k)),
                                padding: (k / 2, k / 2), kernel: kernel).algorithm
    }
    #expect(try algorithm(64, 64, 3, kernel: .winograd) == .winograd)
    // Where it does not apply, `.winograd` is `.automatic`: the 16 → 16 layers keep the wide kernel.
    #expect(try algorithm(16, 16, 3, kernel: .winograd) == .wide)
    #expect(try algorithm(16, 16, 3, kernel: .winograd) == algorithm(16, 16, 3, kernel: .automatic))
    #expect(try algorithm(64, 64, 1, kernel: .winograd) == algorithm(64, 64, 1, kernel: .automatic))
    // The automatic choice takes it exactly where `tile` says, once switched on.
    #expect(try (algorithm(64, 64, 3, kernel: .automatic) == .winograd) == ConvTransposeWinograd.automaticEnabled)
    #expect(ConvTranspose2DAlgorithm.winograd.rawValue == "winograd")
}

/// Layers for the determinism tests: several blocks of tiles per row (the 64 → 64 block is 32
/// tiles), channel counts off the register blocks, every padding, odd sizes.
let winogradDeterminismCases: [ConvTransposeCase] = [
    .init(batched: true, n: 1, cIn: 64, cOutG: 64, groups: 1, h: 21, w: 141, kernel: (3, 3), stride: (1, 1),
          padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), bias: true, epilogue: .leakyReLU(0.2), seed: 41),
    .init(batched: true, n: 2, cIn: 40, cOutG: 35, groups: 1, h: 18, w: 77, kernel: (3, 3), stride: (1, 1),
          padding: (2, 0), outputPadding: (0, 0), dilation: (1, 1), bias: true,
          epilogue: .prelu((0..<35).map { Float($0) / 100 }), seed: 42),
    .init(batched: false, n: 1, cIn: 96, cOutG: 50, groups: 1, h: 15, w: 66, kernel: (3, 3), stride: (1, 1),
          padding: (0, 2), outputPadding: (0, 0), dilation: (1, 1), bias: false, epilogue: .relu, seed: 43),
]

/// The whole map's run at 1 thread and SIMD16 tiles; every thread count, both vector widths and
/// every window the tiling geometry may ask for give its bits: output windows aligned to the 4×4
/// grid and not, on the input window that holds every in-map input of the whole tiles touching
/// them (clipped to the map), and on a larger input window.
@Test(arguments: winogradDeterminismCases)
func winogradKernelIsBitIdenticalForEveryThreadCountWindowAndWidth(_ c: ConvTransposeCase) throws {
    let input = c.tensors().input
    let (n, H, W) = (c.batched ? c.n : 1, c.h, c.w)
    let whole = try c.plan(kernel: .winograd, isa: .avx512).run(input, threads: 1)
    let (oH, oW) = (whole.shape[whole.rank - 2], whole.shape[whole.rank - 1])
    let cOut = c.cOutG
    let geometryH = AxisGeometry(kernel: 3, padding: c.padding.0)
    let geometryW = AxisGeometry(kernel: 3, padding: c.padding.1)
    /// The output range rounded out to whole tiles of 4.
    func tiles(_ r: Range<Int>) -> Range<Int> { floorDiv(r.lowerBound, 4) * 4..<ceilDiv(r.upperBound, 4) * 4 }
    for isa in [VectorISA.avx512, .avx2] {
        let plan = try c.plan(kernel: .winograd, isa: isa)
        #expect(plan.algorithm == .winograd)
        for threads in [1, 2, 3, 7] {
            #expect(try plan.run(input, threads: threads).data.map(\.bitPattern) == whole.data.map(\.bitPattern),
                    "\(isa.rawValue) threads=\(threads) for \(c)")
        }
        // Windows: interior unaligned, aligned, at each corner, one row, one column, the whole map;
        // the last flag widens the input window by 2 rows and columns (clipped) beyond what is needed.
        let windows = [(3, 5, 7, 29, false), (4, 8, 8, 32, false), (0, 0, 5, 31, false), (oH - 4, oW - 30, 4, 30, false),
                       (2, 0, 1, oW, false), (0, 7, oH, 1, false), (0, 0, oH, oW, false), (5, 9, 6, 13, true)]
        for (top, left, rows, columns, extra) in windows {
            var inRows = geometryH.inputRange(forOutput: tiles(top..<(top + rows)))
            var inColumns = geometryW.inputRange(forOutput: tiles(left..<(left + columns)))
            if extra { (inRows, inColumns) = ((inRows.lowerBound - 2)..<(inRows.upperBound + 2), (inColumns.lowerBound - 2)..<(inColumns.upperBound + 2)) }
            (inRows, inColumns) = (inRows.clamped(to: 0..<H), inColumns.clamped(to: 0..<W))
            for b in 0..<n {
                var window = [Float]()   // (1, Cin, inRows, inColumns)
                for ch in 0..<c.cIn { for h in inRows {
                    let start = ((b * c.cIn + ch) * H + h) * W + inColumns.lowerBound
                    window += input.data[start..<(start + inColumns.count)]
                } }
                for threads in [1, 3] {
                    var got = [Float](repeating: .nan, count: cOut * rows * columns)   // (1, Cout, rows, columns)
                    window.withUnsafeBufferPointer { x in
                        got.withUnsafeMutableBufferPointer { y in
                            plan.runWindow(input: x.baseAddress!, inputOrigin: (inRows.lowerBound, inColumns.lowerBound),
                                           inputSize: (inRows.count, inColumns.count), outputOrigin: (top, left),
                                           outputSize: (rows, columns), output: y.baseAddress!, threads: threads)
                        }
                    }
                    var want = [Float]()
                    for co in 0..<cOut { for h in top..<(top + rows) {
                        let start = ((b * cOut + co) * oH + h) * oW + left
                        want += whole.data[start..<(start + columns)]
                    } }
                    #expect(got.map(\.bitPattern) == want.map(\.bitPattern),
                            "\(isa.rawValue) threads \(threads) window rows \(top)..<\(top + rows) columns \(left)..<\(left + columns) batch \(b) for \(c)")
                }
            }
        }
    }
}

/// The grid is what makes windows agree: a window whose input lacks part of a whole tile's patch
/// (the exact receptive field of its outputs only, as the other kernels need) may round differently;
/// this pins that the test above is not vacuous, i.e. the kernel really reads the whole tile.
@Test func winogradWindowWithoutWholeTilesDiffers() throws {
    let c = winogradDeterminismCases[0]
    let plan = try c.plan(kernel: .winograd, isa: .current)
    let input = c.tensors().input
    let whole = try plan.run(input, threads: 1)
    let (oH, oW) = (whole.shape[2], whole.shape[3])
    // Outputs 4 ..< 6 of tile row and column 1 (outputs 4 ..< 8, patch 3 ..< 9): the tile's edge
    // row and column 4 round with inputs 6 and 7 beyond their receptive field (3 ..< 6); the exact
    // receptive field of the window, 3 ..< 7, lacks input 7. (Rows 1 and 2 of a tile read only
    // patch rows 1 ..< 5 in float too: Aᵀ's rows 1, 2 skip M's rows 0 and 5.)
    let (top, left, rows, columns) = (4, 4, 2, 2)
    let geometry = AxisGeometry(kernel: 3, padding: 1)
    let inRows = geometry.inputRange(forOutput: top..<(top + rows)), inColumns = geometry.inputRange(forOutput: left..<(left + columns))
    var window = [Float]()
    for ch in 0..<c.cIn { for h in inRows {
        let start = (ch * c.h + h) * c.w + inColumns.lowerBound
        window += input.data[start..<(start + inColumns.count)]
    } }
    var got = [Float](repeating: .nan, count: c.cOutG * rows * columns)
    window.withUnsafeBufferPointer { x in
        got.withUnsafeMutableBufferPointer { y in
            plan.runWindow(input: x.baseAddress!, inputOrigin: (inRows.lowerBound, inColumns.lowerBound),
                           inputSize: (inRows.count, inColumns.count), outputOrigin: (top, left),
                           outputSize: (rows, columns), output: y.baseAddress!, threads: 1)
        }
    }
    var want = [Float]()
    for co in 0..<c.cOutG { for h in top..<(top + rows) {
        let start = (co * oH + h) * oW + left
        want += whole.data[start..<(start + columns)]
    } }
    // Close (the same convolution) but not all the same bits.
    #expect(allClose(got, want, rtol: 1e-5, atol: 1e-4).ok)
    #expect(got.map(\.bitPattern) != want.map(\.bitPattern))
}
