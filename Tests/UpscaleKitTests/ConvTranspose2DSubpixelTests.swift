// The sub-pixel kernel (+Subpixel: stride-2 columns, 3 output channels, every column phase in one
// register tile) against the narrow kernel bit for bit and the reference scatter kernel over a
// seeded table of layers, which layers take it, and inside the tiled runner.
import Testing
@testable import UpscaleKit

extension ConvTransposeCase {
    /// A random layer the sub-pixel kernel takes: 3 output channels per group, stride 2 along the
    /// width with an even kernel width (both column phases read the same columns), any row stride,
    /// kernel height, padding, groups and epilogue; enough input channels (up to upconv_7's 256)
    /// that another order of the sums gives other bits; images from one pixel to several chunks.
    static func randomSubpixel(_ rng: inout SeededRandom, seed: UInt64) -> ConvTransposeCase {
        let groups = [1, 1, 1, 2].randomElement(using: &rng)!
        let cInG = [1, 2, 5, 16, 37, 64, 256].randomElement(using: &rng)!
        let kernel = (Int.random(in: 1...5, using: &rng), [2, 4, 6].randomElement(using: &rng)!)
        let stride = (Int.random(in: 1...3, using: &rng), 2)
        let dilation = ([1, 1, 2].randomElement(using: &rng)!, 1)
        let padding = (Int.random(in: 0...(dilation.0 * (kernel.0 - 1) + 1), using: &rng),
                       Int.random(in: 0...kernel.1, using: &rng))
        let outputPadding = (Int.random(in: 0..<max(stride.0, dilation.0), using: &rng), Int.random(in: 0...1, using: &rng))
        let epilogues: [Activation] = [.none, .relu, .leakyReLU(0.1), .prelu([0.25]),
                                       .prelu((0..<(3 * groups)).map { Float($0) / 8 - 0.25 })]
        let tiny = Int.random(in: 0..<4, using: &rng) == 0
        let h = Int.random(in: 1...(tiny ? 3 : 19), using: &rng)
        let w = Int.random(in: 1...(tiny ? 5 : (cInG >= 64 ? 70 : 150)), using: &rng)
        return ConvTransposeCase(
            batched: Int.random(in: 0..<4, using: &rng) > 0, n: Int.random(in: 1...2, using: &rng),
            cIn: cInG * groups, cOutG: 3, groups: groups, h: h, w: w,
            kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation,
            bias: Bool.random(using: &rng), epilogue: epilogues.randomElement(using: &rng)!, seed: seed)
    }
}

@Test func subpixelKernelMatchesNarrowKernelBitForBitAndReferenceOnSeededSweep() throws {
    var rng = SeededRandom(seed: 0x5B_F1CE)
    var checked = 0
    for index in 0..<60 {
        let c = ConvTransposeCase.randomSubpixel(&rng, seed: 7000 + UInt64(index))
        guard let subpixel = try? c.plan(kernel: .subpixel), let expected = try? c.reference() else { continue }
        #expect(subpixel.algorithm == .subpixel, "the sub-pixel kernel should take \(c)")
        let input = c.tensors().input
        let narrow = try c.plan(kernel: .narrow)
        #expect(narrow.algorithm == .narrow)
        let want = try narrow.run(input, threads: 1)
        // Same products added in the same order (Plan, "Determinism"), whatever the thread count.
        for threads in [1, 3] {
            let got = try subpixel.run(input, threads: threads)
            #expect(got.data.map(\.bitPattern) == want.data.map(\.bitPattern),
                    "sub-pixel and narrow kernels differ for \(c), threads \(threads)")
        }
        // Sums of up to 256·3·5 products of values in [−1, 1].
        let close = allClose(want, expected, rtol: 1e-4, atol: 1e-3)
        #expect(close.ok, "max diff \(close.maxDiff) for \(c)")
        checked += 1
    }
    #expect(checked >= 45, "only \(checked) valid cases")
}

@Test func subpixelKernelTakesStrideTwoRGBTailsOnAVX512Only() throws {
    func algorithm(_ cIn: Int, _ cOut: Int, _ k: (Int, Int), _ s: (Int, Int), _ d: (Int, Int) = (1, 1),
                   kernel: ConvTranspose2DKernelChoice = .automatic, isa: VectorISA) throws -> ConvTranspose2DAlgorithm {
        try ConvTranspose2DPlan(weight: Tensor(shape: [cIn, cOut, k.0, k.1], data: [Float](repeating: 0.5, count: cIn * cOut * k.0 * k.1)),
                                stride: s, dilation: d, kernel: kernel, isa: isa).algorithm
    }
    // upconv_7's tail and its like: automatic on AVX-512, not on AVX2, never when narrow or wide is asked.
    #expect(try algorithm(256, 3, (4, 4), (2, 2), isa: .avx512) == .subpixel)
    #expect(try algorithm(16, 3, (4, 4), (2, 2), isa: .avx512) == .subpixel)
    // Under 16 input channels +Fast keeps the layer unless asked (the CLI tests' 3 → 3 2×2 stride 2).
    #expect(try algorithm(15, 3, (4, 4), (2, 2), isa: .avx512) == .narrow)
    #expect(try algorithm(3, 3, (2, 2), (2, 2), isa: .avx512) == .narrow)
    #expect(try algorithm(3, 3, (2, 2), (2, 2), kernel: .subpixel, isa: .avx512) == .subpixel)
    #expect(try algorithm(256, 3, (4, 4), (2, 2), isa: .avx2) == .narrow)
    #expect(try algorithm(256, 3, (4, 4), (2, 2), kernel: .subpixel, isa: .avx2) == .subpixel)
    #expect(try algorithm(256, 3, (4, 4), (2, 2), kernel: .narrow, isa: .avx512) == .narrow)
    #expect(try algorithm(256, 3, (4, 4), (2, 2), kernel: .wide, isa: .avx512) == .narrow)
    // Not taken: the built-in models' 16 → 1 tails (kernel 6, 9, 12; stride 2, 3, 4), other channel
    // counts, stride 1 or 3 along the width, column phases with different taps (odd kernel width).
    for (cIn, cOut, k, s) in [(16, 1, 6, 2), (16, 1, 9, 3), (16, 1, 12, 4), (64, 4, 4, 2), (64, 6, 4, 2),
                              (64, 3, 3, 1), (64, 3, 6, 3), (56, 3, 9, 2), (64, 3, 3, 2)] {
        #expect(try algorithm(cIn, cOut, (k, k), (s, s), kernel: .subpixel, isa: .avx512) == .narrow,
                "\(cIn)→\(cOut) \(k)×\(k) stride \(s)")
    }
    // Dilation 2 along the width: one column phase has every tap, the other none.
    #expect(try algorithm(64, 3, (4, 4), (2, 2), (1, 2), kernel: .subpixel, isa: .avx512) == .narrow)
}

/// Layers that take the sub-pixel kernel on AVX-512, in the determinism tests of
/// ConvTranspose2DSweepTests (`determinismCases`: any thread count, cropped inputs): several work
/// items, column chunks and tiles, partial tiles at both ends, both row phases.
let subpixelDeterminismCases: [ConvTransposeCase] = [
    .init(batched: true, n: 1, cIn: 96, cOutG: 3, groups: 1, h: 27, w: 90, kernel: (4, 4), stride: (2, 2),
          padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), bias: true, epilogue: .none, seed: 31),
    .init(batched: false, n: 1, cIn: 40, cOutG: 3, groups: 2, h: 21, w: 57, kernel: (3, 6), stride: (3, 2),
          padding: (2, 3), outputPadding: (1, 1), dilation: (1, 1), bias: true, epilogue: .leakyReLU(0.1), seed: 32),
]

/// An upconv_7-shaped stack with its 4×4 stride-2 RGB tail: the sub-pixel kernel gives the narrow
/// kernel's bits, and tiled runs give the whole image's.
@Test func subpixelTailTiledEqualsWholeImageAndNarrowKernel() throws {
    var rng = SeededRandom(seed: 26)
    let layers = [randomLayer(&rng, 3, 16, 3, 1, activation: .leakyReLU(0.1)),
                  randomLayer(&rng, 16, 40, 3, 1, activation: .leakyReLU(0.1)),
                  randomLayer(&rng, 40, 3, 4, 1, stride: 2, activation: .none)]
    let input = Tensor(shape: [1, 3, 21, 45], data: rng.floats(3 * 21 * 45, 0...1))
    try expectTiledStackEqualsWholeImageAndNarrowKernel(layers, input: input, kernel: .subpixel,
                                                        tiles: [(1, 2), (4, 3), (7, 1), (10, 2), (64, 2)])
}
