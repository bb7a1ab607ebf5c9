import Testing
@testable import UpscaleKit

/// One conv_transpose2d call: every parameter, printable as a whole for failure messages.
struct ConvTCase: CustomStringConvertible {
    var inputShape: [Int]
    var weightShape: [Int]
    var hasBias: Bool
    var stride: (Int, Int), padding: (Int, Int), outputPadding: (Int, Int), dilation: (Int, Int)
    var groups: Int
    var seed: UInt64

    var description: String {
        "input \(inputShape) weight \(weightShape) bias \(hasBias) stride \(stride) padding \(padding) " +
        "output_padding \(outputPadding) groups \(groups) dilation \(dilation) seed \(seed)"
    }

    /// Input, weight and bias drawn from `seed`.
    func tensors() -> (Tensor, Tensor, Tensor?) {
        var rng = SeededRandom(seed: seed)
        let x = Tensor(shape: inputShape, data: rng.floats(Tensor.elementCount(inputShape)))
        let w = Tensor(shape: weightShape, data: rng.floats(Tensor.elementCount(weightShape)))
        let b = hasBias ? Tensor(shape: [weightShape[1] * groups], data: rng.floats(weightShape[1] * groups)) : nil
        return (x, w, b)
    }

    func run(threads: Int) throws -> Tensor {
        let (x, w, b) = tensors()
        return try convTranspose2d(x, weight: w, bias: b, stride: stride, padding: padding,
                                   outputPadding: outputPadding, groups: groups, dilation: dilation,
                                   threads: threads)
    }

    func reference() throws -> Tensor {
        let (x, w, b) = tensors()
        return try convTranspose2dReference(x, weight: w, bias: b, stride: stride, padding: padding,
                                            outputPadding: outputPadding, groups: groups, dilation: dilation)
    }

    /// A random valid case (parameters PyTorch accepts), small enough for the reference.
    static func random(_ rng: inout SeededRandom, seed: UInt64) -> ConvTCase {
        while true {
            let groups = [1, 1, 1, 2, 3].randomElement(using: &rng)!
            let cInG = Int.random(in: 1...4, using: &rng)
            let cOutG = [1, 2, 3, 4, 5, 6, 8, 9].randomElement(using: &rng)!
            let k = (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng))
            let s = (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng))
            let d = (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng))
            let p = (Int.random(in: 0...(d.0 * (k.0 - 1) + 1), using: &rng),
                     Int.random(in: 0...(d.1 * (k.1 - 1) + 1), using: &rng))
            let op = (Int.random(in: 0..<max(s.0, d.0), using: &rng), Int.random(in: 0..<max(s.1, d.1), using: &rng))
            let h = Int.random(in: 1...9, using: &rng)
            let w = [1, 2, 5, 7, 8, 9, 13, 24, 27, 30].randomElement(using: &rng)!
            let n = Int.random(in: 1...2, using: &rng)
            let batched = Int.random(in: 0..<5, using: &rng) != 0
            let c = ConvTCase(
                inputShape: batched ? [n, cInG * groups, h, w] : [cInG * groups, h, w],
                weightShape: [cInG * groups, cOutG, k.0, k.1], hasBias: Bool.random(using: &rng),
                stride: s, padding: p, outputPadding: op, dilation: d, groups: groups, seed: seed)
            let valid = (try? ConvTranspose2DGeometry(
                inputShape: c.inputShape, weightShape: c.weightShape, biasShape: nil, stride: s, padding: p,
                outputPadding: op, groups: groups, dilation: d)) != nil
            if valid { return c }
        }
    }
}

@Suite struct ConvTranspose2DSweepTests {
    @Test func fastMatchesReferenceOnSeededSweep() throws {
        var rng = SeededRandom(seed: 2026)
        var failures = 0
        for i in 0..<400 {
            let c = ConvTCase.random(&rng, seed: UInt64(i))
            let fast = try c.run(threads: 2)
            let ref = try c.reference()
            let (ok, maxDiff) = allClose(fast.data, ref.data, rtol: 1e-5, atol: 1e-5)
            #expect(fast.shape == ref.shape, "case \(i): \(c)")
            #expect(ok, "case \(i): \(c), max |diff| = \(maxDiff)")
            if !ok { failures += 1 }
            if failures > 5 { break }
        }
    }

    @Test func bitIdenticalForAnyThreadCount() throws {
        var rng = SeededRandom(seed: 7)
        for i in 0..<40 {
            let c = ConvTCase.random(&rng, seed: UInt64(1000 + i))
            let one = try c.run(threads: 1)
            for threads in [2, 3, 7] {
                let other = try c.run(threads: threads)
                #expect(one.data.map(\.bitPattern) == other.data.map(\.bitPattern), "threads \(threads): \(c)")
            }
        }
    }
}
