// The fast conv_transpose2d against the reference scatter kernel over a seeded table of random
// layers, plus the determinism contract the tiled runner relies on.
import Foundation
import Testing
@testable import UpscaleKit

/// One random layer and input; `description` is the whole case, printed on failure.
struct ConvTransposeCase: CustomStringConvertible {
    var batched: Bool
    var n: Int, cIn: Int, cOutG: Int, groups: Int
    var h: Int, w: Int
    var kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    var outputPadding: (Int, Int), dilation: (Int, Int)
    var bias: Bool
    var epilogue: Activation
    var seed: UInt64

    var description: String {
        "seed=\(seed) input=\(inputShape) weight=\(weightShape) bias=\(bias) stride=\(stride) padding=\(padding) " +
        "outputPadding=\(outputPadding) groups=\(groups) dilation=\(dilation) epilogue=\(epilogue)"
    }
    var inputShape: [Int] { batched ? [n, cIn, h, w] : [cIn, h, w] }
    var weightShape: [Int] { [cIn, cOutG, kernel.0, kernel.1] }

    static func random(_ rng: inout SeededRandom, seed: UInt64) -> ConvTransposeCase {
        let groups = [1, 1, 1, 2, 3].randomElement(using: &rng)!
        let kernel = (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng))
        let stride = (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng))
        let dilation = ([1, 1, 2, 3].randomElement(using: &rng)!, [1, 1, 2, 3].randomElement(using: &rng)!)
        let padding = (Int.random(in: 0...(dilation.0 * (kernel.0 - 1) + 1), using: &rng),
                       Int.random(in: 0...(dilation.1 * (kernel.1 - 1) + 1), using: &rng))
        let outputPadding = (Int.random(in: 0..<max(stride.0, dilation.0), using: &rng),
                             Int.random(in: 0..<max(stride.1, dilation.1), using: &rng))
        let wide = Bool.random(using: &rng)   // wide enough for interior (non-patch) tiles
        let epilogues: [Activation] = [.none, .none, .relu, .leakyReLU(0.1)]
        return ConvTransposeCase(
            batched: Int.random(in: 0..<4, using: &rng) > 0, n: Int.random(in: 1...2, using: &rng),
            cIn: groups * Int.random(in: 1...5, using: &rng), cOutG: Int.random(in: 1...9, using: &rng),
            groups: groups,
            h: Int.random(in: 1...(wide ? 14 : 7), using: &rng), w: Int.random(in: 1...(wide ? 60 : 12), using: &rng),
            kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation,
            bias: Bool.random(using: &rng), epilogue: epilogues.randomElement(using: &rng)!, seed: seed)
    }

    /// Random input, weight and bias drawn from the case's seed.
    func tensors() -> (input: Tensor, weight: Tensor, bias: Tensor?) {
        var rng = SeededRandom(seed: seed)
        let input = Tensor(shape: inputShape, data: rng.floats(Tensor.elementCount(inputShape)))
        let weight = Tensor(shape: weightShape, data: rng.floats(Tensor.elementCount(weightShape)))
        let bias = self.bias ? Tensor(shape: [cOutG * groups], data: rng.floats(cOutG * groups)) : nil
        return (input, weight, bias)
    }

    func plan() throws -> ConvTranspose2DPlan {
        let t = tensors()
        return try ConvTranspose2DPlan(weight: t.weight, bias: t.bias, stride: stride, padding: padding,
                                       outputPadding: outputPadding, groups: groups, dilation: dilation,
                                       epilogue: epilogue)
    }

    /// The reference kernel followed by the epilogue, element by element.
    func reference() throws -> Tensor { try reference(on: tensors().input) }

    /// `reference()` on another input of the same shape.
    func reference(on input: Tensor) throws -> Tensor {
        let t = tensors()
        var out = try convTranspose2dReference(input, weight: t.weight, bias: t.bias, stride: stride,
                                               padding: padding, outputPadding: outputPadding,
                                               groups: groups, dilation: dilation)
        let plane = out.shape.suffix(2).reduce(1, *), channels = cOutG * groups
        for i in 0..<out.count {
            let x = out.data[i]
            switch epilogue {
            case .none: break
            case .relu: if x < 0 { out.data[i] = 0 }
            case .leakyReLU(let s): if x < 0 { out.data[i] = s * x }
            case .prelu(let s): if x < 0 { out.data[i] = (s.count == 1 ? s[0] : s[(i / plane) % channels]) * x }
            case .sigmoid: out.data[i] = 1 / (1 + exp(-x))
            case .tanh: out.data[i] = tanh(x)
            case .silu: out.data[i] = x / (1 + exp(-x))
            }
        }
        return out
    }
}

@Test func fastMatchesReferenceOnSeededSweep() throws {
    var rng = SeededRandom(seed: 0x5EED_C0DE)
    var checked = 0
    for index in 0..<400 {
        let c = ConvTransposeCase.random(&rng, seed: 1000 + UInt64(index))
        guard let plan = try? c.plan(), let expected = try? c.reference() else { continue }  // PyTorch refuses it too
        let got = try plan.run(c.tensors().input, threads: 2)
        #expect(got.shape == expected.shape, "\(c)")
        let close = allClose(got.data, expected.data, rtol: 1e-5, atol: 1e-5)
        #expect(close.ok, "max diff \(close.maxDiff) for \(c)")
        checked += 1
    }
    #expect(checked >= 300, "only \(checked) valid cases")
}

/// The activations the kernel does not fuse (sigmoid, tanh, SiLU) are applied by the plan after
/// it, in `run` and in `runWindow` alike: the plan, not its caller, picks the form.
@Test(arguments: [Activation.sigmoid, .tanh, .silu])
func unfusedActivationsAreAppliedByThePlan(_ activation: Activation) throws {
    let c = ConvTransposeCase(batched: true, n: 1, cIn: 3, cOutG: 4, groups: 1, h: 7, w: 19,
                              kernel: (3, 3), stride: (2, 2), padding: (1, 1), outputPadding: (1, 1),
                              dilation: (1, 1), bias: true, epilogue: activation, seed: 21)
    let expected = try c.reference()
    let plan = try c.plan()
    let got = try plan.run(c.tensors().input, threads: 2)
    let close = allClose(got.data, expected.data, rtol: 1e-5, atol: 1e-6)
    #expect(got.shape == expected.shape && close.ok, "max diff \(close.maxDiff) for \(c)")
    // The whole output as one window of the whole input.
    let (outH, outW) = (expected.shape[2], expected.shape[3])
    var window = [Float](repeating: .nan, count: expected.count)
    c.tensors().input.withUnsafeBufferPointer { x in
        window.withUnsafeMutableBufferPointer { y in
            plan.runWindow(input: x.baseAddress!, inputOrigin: (0, 0), inputSize: (c.h, c.w), outputOrigin: (0, 0),
                           outputSize: (outH, outW), output: y.baseAddress!, threads: 2)
        }
    }
    #expect(window == got.data, "runWindow differs from run for \(c)")
}

@Test func preluEpilogueUsesPerChannelSlopes() throws {
    var c = ConvTransposeCase(batched: true, n: 2, cIn: 3, cOutG: 5, groups: 1, h: 6, w: 29,
                              kernel: (3, 2), stride: (2, 1), padding: (1, 0), outputPadding: (1, 0),
                              dilation: (1, 2), bias: true, epilogue: .prelu([0.5, -0.25, 0, 2, 0.125]), seed: 7)
    let expected = try c.reference()
    let got = try c.plan().run(c.tensors().input, threads: 2)
    let close = allClose(got.data, expected.data, rtol: 1e-5, atol: 1e-5)
    #expect(close.ok, "max diff \(close.maxDiff) for \(c)")
    c.epilogue = .prelu([0.5, 0.5])
    #expect(throws: ConvTransposeError.self) { try c.plan() }
}

/// Layers large enough to span several work items, tiles and both kernel shapes, then the wide
/// kernel's (ConvTranspose2DWideTests).
let determinismCases: [ConvTransposeCase] = wideDeterminismCases + directDeterminismCases + subpixelDeterminismCases + [
    .init(batched: true, n: 1, cIn: 6, cOutG: 7, groups: 1, h: 37, w: 61, kernel: (3, 3), stride: (1, 1),
          padding: (1, 1), outputPadding: (0, 0), dilation: (1, 1), bias: true, epilogue: .relu, seed: 11),
    .init(batched: true, n: 2, cIn: 5, cOutG: 1, groups: 1, h: 23, w: 50, kernel: (9, 9), stride: (2, 2),
          padding: (4, 4), outputPadding: (1, 1), dilation: (1, 1), bias: true, epilogue: .none, seed: 12),
    .init(batched: false, n: 1, cIn: 8, cOutG: 2, groups: 4, h: 19, w: 45, kernel: (3, 4), stride: (3, 2),
          padding: (2, 1), outputPadding: (1, 0), dilation: (2, 1), bias: false, epilogue: .leakyReLU(0.2), seed: 13),
]

@Test(arguments: determinismCases)
func resultIsBitIdenticalForEveryThreadCount(_ c: ConvTransposeCase) throws {
    let plan = try c.plan(), input = c.tensors().input
    let one = try plan.run(input, threads: 1)
    for threads in [2, 3, 7] {
        #expect(try plan.run(input, threads: threads).data == one.data, "threads=\(threads) for \(c)")
    }
    #expect(try convTranspose2d(input, weight: c.tensors().weight, bias: c.tensors().bias, stride: c.stride,
                                padding: c.padding, outputPadding: c.outputPadding, groups: c.groups,
                                dilation: c.dilation, threads: 3).shape == one.shape)
}

/// What tiling does: an output element computed from a crop of the input that holds its whole
/// receptive field must equal, bit for bit, the element computed from the whole input.
@Test(arguments: determinismCases)
func elementIsBitIdenticalOnACroppedInput(_ c: ConvTransposeCase) throws {
    // A Winograd output depends on its tile's whole input patch, and a crop moves the tile grid:
    // its windows are tested in ConvTranspose2DWinogradTests; here the other kernels.
    let automatic = try c.plan()
    let plan = automatic.algorithm == .winograd ? try c.plan(kernel: .direct) : automatic, full = c.tensors().input
    let fullOut = try plan.run(full, threads: 2)
    let (n, cIn, H, W) = (c.batched ? c.n : 1, c.cIn, c.h, c.w)
    let cOut = c.cOutG * c.groups
    let (oH, oW) = (fullOut.shape[fullOut.rank - 2], fullOut.shape[fullOut.rank - 1])
    var compared = 0
    for (top, left, height, width) in [(3, 5, 11, 17), (0, 0, 9, 30), (H - 8, W - 26, 8, 26), (1, 2, H - 3, W - 4)] {
        var crop = [Float]()
        for b in 0..<n { for ch in 0..<cIn { for h in top..<(top + height) {
            let start = ((b * cIn + ch) * H + h) * W + left
            crop += full.data[start..<(start + width)]
        } } }
        let cropIn = Tensor(shape: c.batched ? [n, cIn, height, width] : [cIn, height, width], data: crop)
        let cropOut = try plan.run(cropIn, threads: 3)
        let (cH, cW) = (cropOut.shape[cropOut.rank - 2], cropOut.shape[cropOut.rank - 1])
        // Output (oh, ow) of the crop is output (oh + top·sH, ow + left·sW) of the whole input.
        let inside = { (o: Int, k: Int, s: Int, p: Int, d: Int, lo: Int, hi: Int, size: Int) -> Bool in
            // Every tap of o either reads inside the crop or outside the whole image.
            (0..<k).allSatisfy { t in
                let v = o + p - t * d
                guard v % s == 0 else { return true }
                let i = v / s
                return (i >= lo && i < hi) || i < 0 || i >= size
            }
        }
        for oh in 0..<cH where inside(oh + top * c.stride.0, c.kernel.0, c.stride.0, c.padding.0, c.dilation.0, top, top + height, H) {
            for ow in 0..<cW where inside(ow + left * c.stride.1, c.kernel.1, c.stride.1, c.padding.1, c.dilation.1, left, left + width, W) {
                let (fh, fw) = (oh + top * c.stride.0, ow + left * c.stride.1)
                guard fh < oH, fw < oW else { continue }
                for b in 0..<n { for ch in 0..<cOut {
                    let a = cropOut.data[((b * cOut + ch) * cH + oh) * cW + ow]
                    let e = fullOut.data[((b * cOut + ch) * oH + fh) * oW + fw]
                    if a.bitPattern != e.bitPattern {
                        Issue.record("crop \((top, left, height, width)) element (\(b), \(ch), \(fh), \(fw)): \(a) vs \(e) for \(c)")
                        return
                    }
                    compared += 1
                } }
            }
        }
    }
    #expect(compared > 1000, "only \(compared) elements compared")
}

/// `runWindow` (the tiled runner's call) against the reference on a masked input: an output window
/// computed from an input window equals the same window of the whole layer run on the input with
/// zeros everywhere outside that input window. Random windows, empty ones included, over the sweep.
@Test func windowMatchesReferenceOnMaskedInput() throws {
    var rng = SeededRandom(seed: 0x0057_1DE0)
    var checked = 0
    for index in 0..<300 {
        var c = ConvTransposeCase.random(&rng, seed: 5000 + UInt64(index))
        c.batched = true
        c.n = 1
        guard let plan = try? c.plan(), let full = try? plan.run(c.tensors().input, threads: 1) else { continue }
        let (H, W, cIn, cOut) = (c.h, c.w, c.cIn, c.cOutG * c.groups)
        let (oH, oW) = (full.shape[2], full.shape[3])
        let rows0 = Int.random(in: 0...H, using: &rng), cols0 = Int.random(in: 0...W, using: &rng)
        let rows = rows0..<Int.random(in: rows0...H, using: &rng), cols = cols0..<Int.random(in: cols0...W, using: &rng)
        let outRows0 = Int.random(in: 0..<oH, using: &rng), outCols0 = Int.random(in: 0..<oW, using: &rng)
        let outRows = outRows0..<Int.random(in: (outRows0 + 1)...oH, using: &rng)
        let outCols = outCols0..<Int.random(in: (outCols0 + 1)...oW, using: &rng)
        let x = c.tensors().input
        var masked = x
        var window = [Float]()   // (1, Cin, rows.count, cols.count)
        for ch in 0..<cIn { for h in 0..<H { for w in 0..<W {
            let i = (ch * H + h) * W + w
            if rows.contains(h) && cols.contains(w) { window.append(x.data[i]) } else { masked.data[i] = 0 }
        } } }
        var expected = try c.reference(on: masked)   // (1, Cout, oH, oW)
        var got = [Float](repeating: .nan, count: cOut * outRows.count * outCols.count)
        window.append(0)   // a valid pointer for an empty window
        window.withUnsafeBufferPointer { input in
            got.withUnsafeMutableBufferPointer { out in
                plan.runWindow(input: input.baseAddress!, inputOrigin: (rows.lowerBound, cols.lowerBound),
                               inputSize: (rows.count, cols.count), outputOrigin: (outRows.lowerBound, outCols.lowerBound),
                               outputSize: (outRows.count, outCols.count), output: out.baseAddress!, threads: 2)
            }
        }
        expected.data = (0..<cOut).flatMap { ch in outRows.flatMap { oh in outCols.map { ow in expected.data[(ch * oH + oh) * oW + ow] } } }
        let close = allClose(got, expected.data, rtol: 1e-5, atol: 1e-5)
        #expect(close.ok, "max diff \(close.maxDiff) for \(c), input window \(rows)×\(cols), output window \(outRows)×\(outCols)")
        checked += 1
    }
    #expect(checked >= 200, "only \(checked) valid cases")
}
