// Colour with alpha is upscaled premultiplied (Resampling/Alpha.swift, issue 24 item 6): checked
// against Pillow's RGBA resize (Fixtures/alpha, tools/make_alpha_fixtures.py), against exact values
// for a half-transparent image, and for an opaque image whose file has an alpha channel.
import Foundation
import Testing
@testable import UpscaleKit

/// A model whose stack outputs 0 (zero weights, no bias) with a bicubic residual: its output is the
/// bicubic upscale, the resampling Pillow does.
func bicubicOnlyModel(scale: Int) throws -> Model {
    let weight = Tensor(zeros: [3, 1, scale, scale])  // (Cin, Cout/g, kH, kW)
    let layer = ModelLayer(weight: weight, stride: (scale, scale), groups: 3)
    return try Model(layers: [layer], scale: scale, channels: .rgb, residual: .bicubic, metadata: ["name": "bicubic-only"])
}

private func alphaFixture(_ name: String) throws -> RasterImage {
    let folder = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil), "Fixtures not bundled")
    return try ImageCodec.decode(path: folder + "/alpha/" + name)
}

@Test(arguments: [2, 3])
func alphaUpscaleMatchesPillowsPremultipliedResize(scale: Int) throws {
    let input = try alphaFixture("rgba.png")
    let pillow = try alphaFixture("rgba_pillow_x\(scale).png")
    var run = RunOptions()
    run.threads = 2
    let out = try bicubicOnlyModel(scale: scale).upscale(color: input.color, alpha: input.alpha, options: run)
    let (h, w) = (scale * input.height, scale * input.width)
    #expect(pillow.width == w && pillow.height == h)
    let (ours, oursAlpha) = (out.color.data, try #require(out.alpha).data)
    let (theirs, theirAlpha) = (pillow.color.data, try #require(pillow.alpha).data)
    // Pillow clips its taps at the border where we mirror: compare the pixels whose taps all lie
    // inside the image. The fixture holds 16-bit samples of Pillow's float results.
    let margin = 2 * scale
    var worst: (alpha: Float, color: Float) = (0, 0)
    for y in margin..<(h - margin) {
        for x in margin..<(w - margin) {
            let i = y * w + x
            worst.alpha = max(worst.alpha, abs(oursAlpha[i] - theirAlpha[i]))
            for c in 0..<3 { worst.color = max(worst.color, abs(ours[c * h * w + i] - theirs[c * h * w + i])) }
        }
    }
    #expect(worst.alpha <= 2e-5 && worst.color <= 2e-5,   // the fixture's 16-bit rounding is 7.6e-6
            "x\(scale): max |Δ| alpha \(worst.alpha), colour \(worst.color)")
}

/// The Keys cubic (a = −0.5), written out here as the oracle's own.
private func keys(_ x: Double) -> Double {
    let t = abs(x)
    if t <= 1 { return (1.5 * t - 2.5) * t * t + 1 }
    if t <= 2 { return ((-0.5 * t + 2.5) * t - 4) * t + 2 }
    return 0
}

@Test func halfTransparentImageHasNoFringe() throws {
    // 32×32: the left half (0, 0, 0, 0), the right half opaque white (the case).
    let n = 32
    var color = [Float](repeating: 0, count: 3 * n * n)
    var alpha = [Float](repeating: 0, count: n * n)
    for y in 0..<n {
        for x in n / 2..<n {
            alpha[y * n + x] = 1
            for c in 0..<3 { color[c * n * n + y * n + x] = 1 }
        }
    }
    let model = try bicubicOnlyModel(scale: 2)
    let out = try model.upscale(color: Tensor(shape: [1, 3, n, n], data: color),
                                alpha: Tensor(shape: [1, 1, n, n], data: alpha), options: RunOptions())
    let outAlpha = try #require(out.alpha).data
    let m = 2 * n
    for x in 0..<m {
        // Output column x samples input u = (x + 1)/2 + 1/4 (1-based); its alpha is the sum of the
        // weights of the opaque columns (17…32), clamped.
        let u = Double(x + 1) / 2 + 0.25
        var weights = 0.0, opaque = 0.0
        for j in Int(u) - 2...Int(u) + 2 {
            let k = keys(u - Double(j))
            let column = min(max(j, 1), n)   // mirrored: 0 → 1, n + 1 → n
            weights += k
            if column > n / 2 { opaque += k }
        }
        let expected = Float(min(max(opaque / weights, 0), 1))
        for y in 0..<m {
            let i = y * m + x
            #expect(abs(outAlpha[i] - expected) <= 1e-6, "alpha at (\(y), \(x)): \(outAlpha[i]), expected \(expected)")
            for c in 0..<3 {
                // Visible pixels are white, however transparent; invisible ones 0.
                let value = out.color.data[c * m * m + i]
                #expect(value == (expected > 0 ? 1 : 0), "channel \(c) at (\(y), \(x)): \(value) with alpha \(expected)")
            }
        }
    }
}

@Test(arguments: ["x2", "y-random", "padded-nearest"])
func opaqueAlphaKeepsTheColourBits(model name: String) throws {
    let model = try streamTestModel(name)
    var rng = SeededRandom(seed: 24)
    let (h, w) = (13, 11)
    let color = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
    let opaque = Tensor(shape: [1, 1, h, w], data: [Float](repeating: 1, count: h * w))
    let without = try model.upscale(color: color, alpha: nil, options: RunOptions())
    let with = try model.upscale(color: color, alpha: opaque, options: RunOptions())
    #expect(with.color.data.elementsEqual(without.color.data) { $0.bitPattern == $1.bitPattern }, "\(name)")
    #expect(with.alpha?.data.allSatisfy { $0 == 1 } == true, "\(name)")
}

@Test func fillMatchesTheNaiveBoxMeanAndDoesNotDependOnTheRowsAsked() throws {
    var rng = SeededRandom(seed: 7)
    let (c, h, w, r) = (3, 17, 13, 3)
    let color = Tensor(shape: [1, c, h, w], data: rng.floats(c * h * w, 0...1))
    // Alpha: opaque, transparent and in between, with a fully transparent corner far from all else.
    var alpha = rng.floats(h * w, 0...1).map { $0 < 0.3 ? 0 : $0 > 0.7 ? 1 : $0 }
    for y in 0..<h { for x in 0..<w where y + x < 9 { alpha[y * w + x] = 0 } }
    let a = Tensor(shape: [1, 1, h, w], data: alpha)
    let whole = Alpha.filled(color, alpha: a, origin: 0, rows: 0..<h, imageHeight: h, radius: r)
    var worst: Float = 0
    for y in 0..<h {
        for x in 0..<w {
            // The naive oracle: the alpha-weighted mean over the clipped box, in Double.
            var (sum, weight) = ([Double](repeating: 0, count: c), 0.0)
            for yy in max(0, y - r)...min(h - 1, y + r) {
                for xx in max(0, x - r)...min(w - 1, x + r) {
                    let aa = Double(alpha[yy * w + xx])
                    weight += aa
                    for k in 0..<c { sum[k] += aa * Double(color.data[(k * h + yy) * w + xx]) }
                }
            }
            let alphaHere = alpha[y * w + x]
            for k in 0..<c {
                let straight = color.data[(k * h + y) * w + x]
                let mean = weight > 0 ? sum[k] / weight : 0
                let expected = alphaHere == 1 ? Double(straight) : Double(straight * alphaHere) + mean * Double(1 - alphaHere)
                worst = max(worst, Float(abs(Double(whole.data[(k * h + y) * w + x]) - expected)))
            }
        }
    }
    #expect(worst <= 1e-5, "max |Δ| against the naive box mean: \(worst)")
    // Rows asked from a window that starts lower give the same bits.
    let window = Model.rows(2..<h, of: color), windowAlpha = Model.rows(2..<h, of: a)
    let part = Alpha.filled(window, alpha: windowAlpha, origin: 2, rows: 6..<11, imageHeight: h, radius: r)
    #expect(part.data == Model.rows(6..<11, of: whole).data)
}
