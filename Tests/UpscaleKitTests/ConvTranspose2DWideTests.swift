// The wide kernel (+Wide: stride 1, many channels, output channels in SIMD lanes) against the
// reference scatter kernel over a seeded table of layers, against the narrow kernel bit for bit,
// and inside the tiled runner.
import Testing
@testable import UpscaleKit

extension ConvTransposeCase {
    /// A random stride-1 layer wide enough for the wide kernel: channel counts that are and are not
    /// multiples of its blocks (16, 32, 48, 64 lanes; 16 → 16 is the built-ins' body), groups, dilation, odd and
    /// tiny images, every epilogue.
    static func randomWide(_ rng: inout SeededRandom, seed: UInt64) -> ConvTransposeCase {
        let groups = [1, 1, 1, 2].randomElement(using: &rng)!
        let cInG = [16, 17, 24, 32, 33, 40, 64].randomElement(using: &rng)!
        let cOutG = [16, 20, 31, 32, 33, 40, 47, 48, 50, 63, 64, 65, 80, 100, 128, 130].randomElement(using: &rng)!
        let kernel = (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng))
        let dilation = ([1, 1, 1, 2].randomElement(using: &rng)!, [1, 1, 1, 2].randomElement(using: &rng)!)
        let padding = (Int.random(in: 0...(dilation.0 * (kernel.0 - 1) + 1), using: &rng),
                       Int.random(in: 0...(dilation.1 * (kernel.1 - 1) + 1), using: &rng))
        let outputPadding = (dilation.0 > 1 ? Int.random(in: 0..<dilation.0, using: &rng) : 0,
                             dilation.1 > 1 ? Int.random(in: 0..<dilation.1, using: &rng) : 0)
        let cOut = cOutG * groups
        let epilogues: [Activation] = [.none, .relu, .leakyReLU(0.1), .prelu([0.25]),
                                                    .prelu((0..<cOut).map { Float($0 % 7) / 8 - 0.25 })]
        let tiny = Int.random(in: 0..<4, using: &rng) == 0
        return ConvTransposeCase(
            batched: Int.random(in: 0..<4, using: &rng) > 0, n: Int.random(in: 1...2, using: &rng),
            cIn: cInG * groups, cOutG: cOutG, groups: groups,
            h: Int.random(in: 1...(tiny ? 3 : 13), using: &rng), w: Int.random(in: 1...(tiny ? 5 : 61), using: &rng),
            kernel: kernel, stride: (1, 1), padding: padding, outputPadding: outputPadding, dilation: dilation,
            bias: Bool.random(using: &rng), epilogue: epilogues.randomElement(using: &rng)!, seed: seed)
    }

    func plan(kernel: ConvTranspose2DKernelChoice) throws -> ConvTranspose2DPlan {
        let t = tensors()
        return try ConvTranspose2DPlan(weight: t.weight, bias: t.bias, stride: stride, padding: padding,
                                       outputPadding: outputPadding, groups: groups, dilation: dilation,
                                       epilogue: epilogue, kernel: kernel)
    }
}

@Test func wideKernelMatchesReferenceAndNarrowKernelOnSeededSweep() throws {
    var rng = SeededRandom(seed: 0x0057_1DE5)
    var checked = 0
    for index in 0..<120 {
        let c = ConvTransposeCase.randomWide(&rng, seed: 9000 + UInt64(index))
        // `.wide`: the 3×3 and 1×1 cases with ≥ 32 channels take +Direct when automatic (its own tests).
        guard let wide = try? c.plan(kernel: .wide), let expected = try? c.reference() else { continue }
        #expect(wide.algorithm == .wide, "the wide kernel should take \(c)")
        let input = c.tensors().input
        let got = try wide.run(input, threads: 2)
        // Sums of up to 64·25 products of values in [−1, 1]: magnitudes of order 10.
        let close = allClose(got, expected, rtol: 1e-5, atol: 1e-4)
        #expect(close.ok, "max diff \(close.maxDiff) for \(c): shape \(got.shape), expected \(expected.shape)")
        // Both kernels add the same products in the same order (Plan, "Determinism").
        let narrow = try c.plan(kernel: .narrow).run(input, threads: 3)
        #expect(got.data.map(\.bitPattern) == narrow.data.map(\.bitPattern), "wide and narrow kernels differ for \(c)")
        checked += 1
    }
    #expect(checked >= 80, "only \(checked) valid cases")
}

@Test func narrowLayersKeepTheNarrowKernel() throws {
    // Layers under 16 channels in or out (FSRCNN's 1→56 5×5, 56→12 1×1, 12→12 3×3, 12→56 1×1,
    // 56→1 9×9 stride s) and every strided layer stay on the narrow kernel.
    for (cIn, cOut, k, s) in [(1, 56, 5, 1), (56, 12, 1, 1), (12, 12, 3, 1), (12, 56, 1, 1), (56, 1, 9, 2), (64, 64, 4, 2)] {
        let plan = try ConvTranspose2DPlan(weight: Tensor(shape: [cIn, cOut, k, k], data: [Float](repeating: 0.5, count: cIn * cOut * k * k)),
                                           stride: (s, s))
        #expect(plan.algorithm == .narrow, "\(cIn)→\(cOut) \(k)×\(k) stride \(s)")
    }
}

/// Layers that take the wide kernel, in the determinism tests of ConvTranspose2DSweepTests
/// (`determinismCases`: any thread count, cropped inputs).
let wideDeterminismCases: [ConvTransposeCase] = [
    .init(batched: true, n: 1, cIn: 40, cOutG: 70, groups: 1, h: 37, w: 61, kernel: (3, 3), stride: (1, 1),
          padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), bias: true,
          epilogue: .prelu((0..<70).map { Float($0) / 100 }), seed: 21),
    .init(batched: false, n: 1, cIn: 64, cOutG: 33, groups: 2, h: 29, w: 53, kernel: (3, 3), stride: (1, 1),
          padding: (2, 2), outputPadding: (0, 0), dilation: (1, 1), bias: true, epilogue: .leakyReLU(0.1), seed: 22),
    .init(batched: true, n: 2, cIn: 17, cOutG: 48, groups: 1, h: 25, w: 47, kernel: (5, 3), stride: (1, 1),
          padding: (3, 1), outputPadding: (1, 0), dilation: (2, 1), bias: false, epilogue: .relu, seed: 23),
]

@Test func wideDeterminismCasesTakeTheWideKernel() throws {
    // The first two are 3×3 with ≥ 32 channels: the automatic choice runs the first as Winograd; the
    // second, of two groups, on +Direct when automatic on AVX2.
    for c in wideDeterminismCases { #expect(try c.plan(kernel: .wide).algorithm == .wide, "\(c)") }
    let direct: ConvTranspose2DAlgorithm = ConvTransposeDirectPack.preferred(on: .current) ? .direct : .wide
    #expect(try wideDeterminismCases.map { try $0.plan().algorithm } == [.winograd, direct, .wide])
}

/// An upconv_7 / SRVGGNetCompact-like stack (3→16→40→70 3×3 "same" and valid-free, a dilated
/// 70→33, a 4×4 stride-2 33→3): tiled runs equal the whole-image run bit for bit, and the whole
/// image equals the same stack on the narrow kernel only.
@Test func wideStackTiledEqualsWholeImageAndNarrowKernel() throws {
    var rng = SeededRandom(seed: 17)
    let (first, second) = (randomLayer(&rng, 3, 16, 3, 1, activation: .leakyReLU(0.1)),
                           randomLayer(&rng, 16, 40, 3, 1, activation: .leakyReLU(0.1)))
    let slopes = rng.floats(70, 0...0.3)  // drawn in the order the layers were made before
    let layers = [first, second, randomLayer(&rng, 40, 70, 3, 1, activation: .prelu(slopes)),
                  randomLayer(&rng, 70, 33, 3, 2, dilation: 2, activation: .relu),
                  randomLayer(&rng, 33, 3, 4, 1, stride: 2, activation: .none)]
    let input = Tensor(shape: [1, 3, 19, 23], data: rng.floats(3 * 19 * 23, 0...1))
    try expectTiledStackEqualsWholeImageAndNarrowKernel(layers, input: input, kernel: .wide,
                                                        tiles: [(1, 2), (4, 3), (7, 1), (10, 2), (64, 2)])
}
