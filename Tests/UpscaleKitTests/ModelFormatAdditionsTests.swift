// The format additions the importer needs, each against an independent oracle: input padding by
// border replication (the padded image made explicitly, then the reference kernel on the whole
// map), the nearest residual (exact values), pixel shuffle folded into one transposed conv (a
// naive Conv2d + PixelShuffle written here), and what the loader checks about them.
import Foundation
import Testing
@testable import UpscaleKit

/// A waifu2x-like stack: two valid 3×3 convs (as transposed convs, padding 2) and a 4×4 stride-2
/// deconv with padding 3: n + 2·P ↦ 2n for P = 3.
func paddedModel(residual: ModelResidual = .nearest) throws -> Model {
    var rng = SeededRandom(seed: 9)
    let layers = [
        ModelLayer(weight: Tensor(shape: [3, 4, 3, 3], data: rng.floats(108, -0.4...0.4)), bias: Tensor(shape: [4], data: rng.floats(4)),
                   padding: (2, 2), activation: .leakyReLU(0.1)),
        ModelLayer(weight: Tensor(shape: [4, 4, 3, 3], data: rng.floats(144, -0.4...0.4)), padding: (2, 2), activation: .prelu(rng.floats(4, 0...0.3))),
        ModelLayer(weight: Tensor(shape: [4, 3, 4, 4], data: rng.floats(192, -0.4...0.4)), bias: Tensor(shape: [3], data: rng.floats(3)),
                   stride: (2, 2), padding: (3, 3)),
    ]
    return try Model(layers: layers, scale: 2, channels: .rgb, residual: residual, inputPadding: 3, metadata: ["name": "padded"])
}

/// src = (1, C, H, W) / dst = (1, C, H + 2p, W + 2p): each pixel a copy of the nearest border pixel.
func replicatePad(_ t: Tensor, _ p: Int) -> Tensor {
    let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
    var out: [Float] = []
    for ch in 0..<c {
        for y in 0..<(h + 2 * p) {
            for x in 0..<(w + 2 * p) {
                out.append(t.data[(ch * h + min(max(y - p, 0), h - 1)) * w + min(max(x - p, 0), w - 1)])
            }
        }
    }
    return Tensor(shape: [1, c, h + 2 * p, w + 2 * p], data: out)
}

/// Naive Conv2d (stride 1, zero padding p) then PixelShuffle(r): W (C·r², Cin, k, k), b (C·r²).
func convThenPixelShuffle(_ x: Tensor, _ w: Tensor, _ b: [Float], padding p: Int, r: Int) -> Tensor {
    let (cIn, h, wd) = (x.shape[1], x.shape[2], x.shape[3])
    let (cAll, k) = (w.shape[0], w.shape[2])
    let c = cAll / (r * r)
    var out = [Float](repeating: 0, count: c * h * r * wd * r)
    for o in 0..<cAll {
        let (ch, i, j) = (o / (r * r), (o % (r * r)) / r, o % r)
        for y in 0..<h {
            for xx in 0..<wd {
                var sum = b[o]
                for ci in 0..<cIn {
                    for dy in 0..<k {
                        for dx in 0..<k {
                            let (sy, sx) = (y + dy - p, xx + dx - p)
                            if sy >= 0 && sy < h && sx >= 0 && sx < wd {
                                sum += w.data[((o * cIn + ci) * k + dy) * k + dx] * x.data[(ci * h + sy) * wd + sx]
                            }
                        }
                    }
                }
                out[(ch * h * r + y * r + i) * wd * r + xx * r + j] = sum
            }
        }
    }
    return Tensor(shape: [1, c, h * r, wd * r], data: out)
}

@Suite struct ModelFormatAdditionsTests {
    @Test func inputPaddingMatchesTheExplicitlyPaddedImageAtEveryTileSize() throws {
        let model = try paddedModel(residual: .none)
        var rng = SeededRandom(seed: 4)
        for (h, w) in [(1, 1), (2, 5), (7, 6)] {
            let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
            let oracle = try wholeImageStack(model.layers, replicatePad(input, 3))   // reference kernel, whole map
            var whole: Tensor? = nil
            for tileSize in [1, 2, 3, 256] {
                var options = RunOptions()
                options.tileSize = tileSize
                options.threads = 2
                let got = try model.stackOutput(input, options: options)
                let check = allClose(got.data, oracle.data, rtol: 1e-5, atol: 1e-5)
                #expect(got.shape == [1, 3, 2 * h, 2 * w] && check.ok, "\(h)×\(w) tile \(tileSize): max |diff| \(check.maxDiff)")
                if let whole {
                    #expect(got.data.elementsEqual(whole.data) { $0.bitPattern == $1.bitPattern }, "\(h)×\(w) tile \(tileSize) differs from tile 1")
                } else {
                    whole = got
                }
            }
        }
    }

    @Test func nearestUpscaleCopiesEachPixel() {
        let t = Tensor(shape: [1, 1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        #expect(Resize.nearestUpscale(t, factor: 2).data == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6])
        // A band holding image rows 1 and 2 (the tensor's rows): output rows 3, 4 copy image row 1.
        #expect(Resize.nearestUpscaleRows(t, rowOrigin: 1, factor: 3, outRows: 3..<5).data
                == [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    }

    @Test func paddingAndNearestResidualSurviveTheFile() throws {
        let model = try paddedModel()
        let loaded = try Model(bytes: try model.serialized(), name: "padded.bin")
        #expect(loaded.inputPadding == 3 && loaded.residual == .nearest && loaded.scale == 2)
        #expect(loaded.receptiveHalo == model.receptiveHalo)
        let input = Tensor(shape: [1, 3, 4, 5], data: SeededRandom(seed: 2).floatsCopy(60))
        #expect(try loaded.upscale(color: input, alpha: nil, options: RunOptions()).color
                == (try model.upscale(color: input, alpha: nil, options: RunOptions())).color)
    }

    @Test(arguments: [("-1", "input_padding \"-1\""), ("x", "input_padding \"x\""), ("65", "between 0 and 64"),
                      ("0", "empty height for a 1-pixel input"), ("4", "input_padding 4")])
    func loaderChecksTheInputPadding(value: String, words: String) throws {
        var parts = FileParts(try paddedModel().serialized())
        parts.metadata["input_padding"] = value
        #expect {
            _ = try Model(bytes: parts.bytes(), name: "edited.bin")
        } throws: { error in
            (error as? ModelError)?.message.contains(words) == true
        }
    }

    @Test func loaderNamesTheResidualsItKnows() throws {
        var parts = FileParts(try paddedModel().serialized())
        parts.metadata["residual"] = "nearst"
        #expect {
            _ = try Model(bytes: parts.bytes(), name: "edited.bin")
        } throws: { error in
            (error as? ModelError)?.message.contains("\"none\", \"bicubic\" or \"nearest\"") == true
        }
    }

    /// Conv k×k "same" + PixelShuffle(r) folded into one transposed conv, with phase biases equal
    /// (one bias per channel) and different (the constant channel), against the naive oracle.
    @Test(arguments: [(3, 2, true), (3, 3, false), (1, 4, false), (5, 2, false)])
    func pixelShuffleFoldsExactly(k: Int, r: Int, equalBiases: Bool) throws {
        var rng = SeededRandom(seed: UInt64(10 * k + r))
        let (cIn, c) = (4, 3)
        let first = Tensor(shape: [cIn, 3, 3, 3], data: rng.floats(cIn * 27, -0.5...0.5))   // Conv2d (Cout, Cin, k, k)
        let firstBias = rng.floats(cIn)
        let w = Tensor(shape: [c * r * r, cIn, k, k], data: rng.floats(c * r * r * cIn * k * k, -0.5...0.5))
        var b = rng.floats(c * r * r)
        if equalBiases { b = (0..<(c * r * r)).map { b[($0 / (r * r)) * r * r] } }
        let network = ImportedNetwork(steps: [
            .conv(weight: first, bias: Tensor(shape: [cIn], data: firstBias), padding: (1, 1), dilation: (1, 1), name: "a"),
            .activation(.leakyReLU(0.2), name: "a"),
            .conv(weight: w, bias: Tensor(shape: [c * r * r], data: b), padding: ((k - 1) / 2, (k - 1) / 2), dilation: (1, 1), name: "b"),
            .pixelShuffle(r, name: "shuffle"),
        ])
        let model = try network.model(metadata: [:], source: "test")
        #expect(model.layers.count == 2 && model.layers[1].kernel == (r * k, r * k) && model.layers[1].stride == (r, r))
        #expect(model.layers[0].outChannels == (equalBiases ? cIn : cIn + 1), "the constant channel only when biases differ")
        let x = Tensor(shape: [1, 3, 5, 6], data: rng.floats(90, 0...1))
        // Oracle: the first conv (naive, r = 1) with its activation, then conv + shuffle.
        var hidden = convThenPixelShuffle(x, first, firstBias, padding: 1, r: 1)
        Activation.leakyReLU(0.2).apply(&hidden)
        let expected = convThenPixelShuffle(hidden, w, b, padding: (k - 1) / 2, r: r)
        for tileSize in [2, 256] {
            var options = RunOptions()
            options.tileSize = tileSize
            let got = try model.stackOutput(x, options: options)
            let check = allClose(got.data, expected.data, rtol: 1e-5, atol: 1e-5)
            #expect(got.shape == expected.shape && check.ok, "k \(k) r \(r) equal \(equalBiases) tile \(tileSize): max |diff| \(check.maxDiff)")
        }
    }

    @Test func pixelShuffleThatCannotFoldIsRefused() throws {
        let w = Tensor(shape: [12, 3, 2, 2], data: [Float](repeating: 0.1, count: 144))
        let even = ImportedNetwork(steps: [.conv(weight: w, bias: nil, padding: (0, 0), dilation: (1, 1), name: "c"), .pixelShuffle(2, name: "ps")])
        #expect(throws: ImportError.self) { _ = try even.model(metadata: [:], source: "t") }
        let odd = Tensor(shape: [12, 3, 3, 3], data: [Float](repeating: 0.1, count: 324))
        let unequal = ImportedNetwork(steps: [
            .conv(weight: odd, bias: Tensor(shape: [12], data: (0..<12).map(Float.init)), padding: (1, 1), dilation: (1, 1), name: "c"),
            .pixelShuffle(2, name: "ps")])
        do {
            _ = try unequal.model(metadata: [:], source: "t")
            Issue.record("a first-layer conv with unequal phase biases folded")
        } catch let error as ImportError {
            #expect(error.kind == .unsupported && error.message.contains("no layer before it"), "\(error)")
        }
    }

    @Test func tilePlanWithPaddingPartitionsTheOutputAndReadsInsideThePaddedImage() throws {
        let model = try paddedModel()
        for tileSize in [1, 3, 4] {
            let plan = TilePlan(height: 7, width: 5, tileSize: tileSize, rows: model.rowGeometry, cols: model.colGeometry, inputPadding: 3)
            #expect(plan.sizes[0] == (13, 11) && plan.sizes.last! == (14, 10))
            var covered = [Int](repeating: 0, count: 14 * 10)
            for tile in plan.tiles {
                for y in tile.output.rows { for x in tile.output.cols { covered[y * 10 + x] += 1 } }
                #expect(tile.input.rows.clamped(to: 0..<13) == tile.input.rows && tile.input.cols.clamped(to: 0..<11) == tile.input.cols)
            }
            #expect(covered.allSatisfy { $0 == 1 }, "tile \(tileSize)")
        }
        #expect(TilePlan.imageRange(0..<2, inputPadding: 3, length: 7) == 0..<1)
        #expect(TilePlan.imageRange(2..<13, inputPadding: 3, length: 7) == 0..<7)
        #expect(TilePlan.imageRange(11..<13, inputPadding: 3, length: 7) == 6..<7)
        // Two valid 3×3 convs reach 2 padded pixels back, the deconv 1 more: the image pixel t needs
        // padded pixels t + 3 ± 3, i.e. image pixels t ± 3 (clamped).
        #expect(model.receptiveHalo == 3)
    }
}
