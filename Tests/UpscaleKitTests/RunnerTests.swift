import Foundation
import Testing
@testable import UpscaleKit

/// A one-layer 1×1 model: out[co] = Σ_ci w[ci][co]·x[ci] + bias[co].
func pointwiseModel(_ w: [[Float]], bias: [Float]? = nil, channels: ModelChannels, scale: Int = 1,
                    residual: ModelResidual = .none) throws -> Model {
    let (cIn, cOut) = (w.count, w[0].count)
    // A stride-s 1×1 deconv with output_padding would not be n ↦ s·n; for scale > 1 use an s×s kernel, stride s.
    let k = scale
    var weight = [Float](repeating: 0, count: cIn * cOut * k * k)  // (Cin, Cout, k, k)
    for ci in 0..<cIn { for co in 0..<cOut { for t in 0..<(k * k) { weight[(ci * cOut + co) * k * k + t] = w[ci][co] } } }
    let layer = ModelLayer(weight: Tensor(shape: [cIn, cOut, k, k], data: weight), bias: bias.map { Tensor(shape: [$0.count], data: $0) },
                           stride: (scale, scale))
    return try Model(layers: [layer], scale: scale, channels: channels, residual: residual, metadata: ["name": "pointwise"])
}

@Suite struct RunnerColourTests {
    let options = RunOptions()

    @Test func rgbModelOnRGBIsClamped() throws {
        let model = try pointwiseModel([[2, 0, 0], [0, 2, 0], [0, 0, 2]], bias: [-0.5, -0.5, -0.5], channels: .rgb)
        let x = Tensor(shape: [1, 3, 1, 2], data: [0.1, 0.5, 0.3, 0.9, 0.25, 0.7])
        let out = try model.upscale(color: x, alpha: nil, options: options).color
        #expect(allClose(out.data, [0, 0.5, 0.1, 1, 0, 0.9]).ok, "\(out.data)")
    }

    @Test func rgbModelOnGrayReturnsTheMeanOfItsThreeOutputs() throws {
        // Column sums 1, 2, 3: a gray g replicated to (g, g, g) gives (g, 2g, 3g); the mean is 2g.
        let model = try pointwiseModel([[1, 1, 1], [0, 1, 1], [0, 0, 1]], channels: .rgb)
        let g = Tensor(shape: [1, 1, 1, 3], data: [0.1, 0.3, 0.6])
        let out = try model.upscale(color: g, alpha: nil, options: options).color
        #expect(out.shape == [1, 1, 1, 3])
        #expect(allClose(out.data, [0.2, 0.6, 1.0]).ok, "\(out.data)")
    }

    @Test func yModelOnGrayRunsOnItsLuma() throws {
        // Y' = Y + 0.05 → g' = g + 0.05·255/219.
        let model = try pointwiseModel([[1]], bias: [0.05], channels: .y)
        let g = Tensor(shape: [1, 1, 2, 2], data: [0, 0.2, 0.5, 0.99])
        let out = try model.upscale(color: g, alpha: nil, options: options).color
        let shift: Float = 0.05 * 255 / 219
        #expect(allClose(out.data, [shift, 0.2 + shift, 0.5 + shift, 1]).ok, "\(out.data)")
    }

    @Test func yModelOnRGBShiftsOnlyLuma() throws {
        // Adding b to Y and converting back adds b·255/219 to each of R, G, B (MATLAB ycbcr2rgb).
        let model = try pointwiseModel([[1]], bias: [0.02], channels: .y)
        let x = Tensor(shape: [1, 3, 1, 2], data: [0.2, 0.6, 0.4, 0.1, 0.7, 0.3])
        let out = try model.upscale(color: x, alpha: nil, options: options).color
        let shift: Float = 0.02 * 255 / 219
        #expect(allClose(out.data, x.data.map { $0 + shift }, rtol: 0, atol: 2e-6).ok, "\(out.data)")
    }

    @Test func zeroResidualYModelIsBicubicOfTheRGBImage() throws {
        // Stack outputs 0, so Y' = bicubic(Y), and Cb, Cr are bicubic too: bicubic is linear with
        // weights summing to 1 and the colour transform is affine, so the result is bicubic(RGB).
        var rng = SeededRandom(seed: 3)
        let model = try pointwiseModel([[0]], channels: .y, scale: 2, residual: .bicubic)
        let x = Tensor(shape: [1, 3, 5, 4], data: rng.floats(60, 0...1))
        let alpha = Tensor(shape: [1, 1, 5, 4], data: rng.floats(20, 0...1))
        let out = try model.upscale(color: x, alpha: alpha, options: options)
        #expect(out.color.shape == [1, 3, 10, 8])
        let expectedAlpha = Resize.bicubicUpscale(alpha, factor: 2).data.map { min(max($0, 0), 1) }
        // The colour stage's bicubic is in Float (Resize.bicubicRowFloat): within Float rounding of MATLAB's.
        let alphaClose = allClose(out.alpha?.data ?? [], expectedAlpha, rtol: 0, atol: 2e-6)
        #expect(alphaClose.ok, "alpha: max |Δ| \(alphaClose.maxDiff)")
        // With alpha the colour is upscaled premultiplied (Resampling/Alpha.swift): compare it so.
        let premultiplied = (0..<60).map { x.data[$0] * alpha.data[$0 % 20] }
        let expected = Resize.bicubicUpscale(Tensor(shape: [1, 3, 5, 4], data: premultiplied), factor: 2).data
            .enumerated().map { i, v in min(max(v, 0), expectedAlpha[i % 80]) }
        let ours = out.color.data.enumerated().map { i, v in v * expectedAlpha[i % 80] }
        #expect(allClose(ours, expected, rtol: 0, atol: 2e-6).ok, "\(allClose(ours, expected, rtol: 0, atol: 2e-6).maxDiff)")
        // Without alpha, plain bicubic of the RGB image.
        let opaque = try model.upscale(color: x, alpha: nil, options: options)
        let plain = Resize.bicubicUpscale(x, factor: 2).data.map { min(max($0, 0), 1) }
        #expect(allClose(opaque.color.data, plain, rtol: 0, atol: 2e-6).ok)
    }

    @Test func constantImageStaysConstantThroughResidualAndAlpha() throws {
        let model = try pointwiseModel([[0, 0, 0], [0, 0, 0], [0, 0, 0]], channels: .rgb, scale: 3, residual: .bicubic)
        let x = Tensor(shape: [1, 3, 3, 4], data: [Float](repeating: 0.25, count: 36))
        let a = Tensor(shape: [1, 1, 3, 4], data: [Float](repeating: 0.75, count: 12))
        let out = try model.upscale(color: x, alpha: a, options: options)
        #expect(allClose(out.color.data, [Float](repeating: 0.25, count: 3 * 9 * 12)).ok)
        #expect(allClose(out.alpha!.data, [Float](repeating: 0.75, count: 9 * 12)).ok)
    }

    @Test func wrongShapesAreRefused() throws {
        let model = try pointwiseModel([[1]], channels: .y)
        #expect(throws: ModelError.self) { try model.upscale(color: Tensor(zeros: [1, 2, 3, 3]), alpha: nil, options: options) }
        #expect(throws: ModelError.self) {
            try model.upscale(color: Tensor(zeros: [1, 3, 3, 3]), alpha: Tensor(zeros: [1, 1, 3, 4]), options: options)
        }
        #expect(throws: ModelError.self) { try model.stackOutput(Tensor(zeros: [1, 3, 3, 3]), options: options) }
    }
}

@Suite struct RunnerBehaviourTests {
    @Test func ttaAveragesTheEightDihedralRuns() throws {
        // Stack: a 1×3 horizontal kernel [1, 2, 3] (padding 1). Its 4 untransposed runs average to the
        // horizontal [2, 2, 2], its 4 transposed runs to the vertical [2, 2, 2]; so TTA gives
        // y = 2x + x_left + x_right + x_up + x_down (zeros outside).
        let layer = ModelLayer(weight: Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3]), padding: (0, 1))
        let model = try Model(layers: [layer], scale: 1, channels: .y, residual: .none, metadata: [:])
        var rng = SeededRandom(seed: 11)
        let (h, w) = (4, 5)
        let x = rng.floats(h * w, 0...1)
        func at(_ i: Int, _ j: Int) -> Float { (0..<h).contains(i) && (0..<w).contains(j) ? x[i * w + j] : 0 }
        var expected = [Float](repeating: 0, count: h * w)
        for i in 0..<h { for j in 0..<w { expected[i * w + j] = 2 * at(i, j) + at(i, j - 1) + at(i, j + 1) + at(i - 1, j) + at(i + 1, j) } }
        var options = RunOptions()
        options.tta = true
        options.tileSize = 2
        let got = try model.stackOutput(Tensor(shape: [1, 1, h, w], data: x), options: options)
        #expect(allClose(got.data, expected, rtol: 1e-6, atol: 1e-6).ok, "\(got.data) vs \(expected)")
    }

    @Test func dihedralTransformsAreInvertibleAndDistinct() {
        let x = Tensor(shape: [1, 2, 2, 3], data: (0..<12).map(Float.init))
        var seen: [[Float]] = []
        for k in 0..<8 {
            let (t, r, c) = (k & 4 != 0, k & 2 != 0, k & 1 != 0)
            let y = Dihedral.apply(x, transpose: t, flipRows: r, flipCols: c)
            #expect(y.shape == (t ? [1, 2, 3, 2] : [1, 2, 2, 3]))
            #expect(Dihedral.invert(y, transpose: t, flipRows: r, flipCols: c) == x)
            seen.append(y.data)
        }
        #expect(Set(seen.map { $0.map(\.bitPattern) }).count == 8)
        // Transposed, channel 0: rows become columns.
        #expect(Dihedral.apply(x, transpose: true, flipRows: false, flipCols: false).data[0..<6] == [0, 3, 1, 4, 2, 5])
    }

    @Test func upscaleIsBitIdenticalForAnyThreadCountAndTileSize() throws {
        var rng = SeededRandom(seed: 21)
        let layers = randomLayers(&rng, channels: 1, scale: 2, depth: 3)
        let model = try Model(layers: layers, scale: 2, channels: .y, residual: .bicubic, metadata: [:])
        let x = Tensor(shape: [1, 3, 9, 7], data: rng.floats(189, 0...1))
        var options = RunOptions()
        options.threads = 1
        options.tileSize = 1000
        let reference = try model.upscale(color: x, alpha: nil, options: options).color
        for (threads, tile) in [(2, 3), (4, 4), (3, 1)] {
            options.threads = threads
            options.tileSize = tile
            #expect(try model.upscale(color: x, alpha: nil, options: options).color.data == reference.data)
        }
    }

    @Test func progressCountsTilesAndCancellationStops() throws {
        let model = try pointwiseModel([[1]], channels: .y, scale: 2)
        let x = Tensor(zeros: [1, 1, 10, 10])
        final class Log: @unchecked Sendable { var calls: [(Int, Int)] = [] }
        let log = Log()
        var options = RunOptions()
        options.tileSize = 3   // 4 × 4 tiles
        options.threads = 2
        options.progress = { done, total in log.calls.append((done, total)) }
        _ = try model.stackOutput(x, options: options)
        #expect(log.calls.map(\.0) == Array(1...16) && log.calls.allSatisfy { $0.1 == 16 })
        options.tta = true
        log.calls = []
        _ = try model.upscale(color: x, alpha: nil, options: options)
        #expect(log.calls.count == 128 && log.calls.last! == (128, 128))

        log.calls = []
        options.tta = false
        options.isCancelled = { log.calls.count >= 2 }
        #expect(throws: CancellationError.self) { try model.stackOutput(x, options: options) }
        #expect(log.calls.count < 16)
    }
}
