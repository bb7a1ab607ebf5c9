import Foundation
import Testing
@testable import UpscaleKit

@Suite struct TilePlanTests {
    /// Shipped-like FSRCNN geometry (x2): 5×5 p2, 1×1, 3×3 p1 ×4, 1×1, 9×9 s2 p4 op1.
    static let fsrcnn2: [AxisGeometry] = [AxisGeometry(kernel: 5, padding: 2), AxisGeometry(kernel: 1)]
        + Array(repeating: AxisGeometry(kernel: 3, padding: 1), count: 4)
        + [AxisGeometry(kernel: 1), AxisGeometry(kernel: 9, stride: 2, padding: 4, outputPadding: 1)]

    @Test func inputRangeIsTheHullOfTheContributingInputs() {
        // For every output window, the inputs whose taps land in it, enumerated directly; the range
        // contains them all (extra inputs only reach outputs outside the window, which the runner crops),
        // and is exactly their hull when dilation is 1.
        for g in [AxisGeometry(kernel: 3, stride: 2, padding: 1, outputPadding: 1), AxisGeometry(kernel: 1, stride: 4),
                  AxisGeometry(kernel: 4, stride: 3, padding: 2, dilation: 2), AxisGeometry(kernel: 9, stride: 2, padding: 4)] {
            for o0 in -3..<12 {
                for o1 in (o0 + 1)..<(o0 + 6) {
                    let brute = (-20..<20).filter { i in (0..<g.kernel).contains { j in (o0..<o1).contains(i * g.stride - g.padding + j * g.dilation) } }
                    let r = g.inputRange(forOutput: o0..<o1)
                    let hull = brute.isEmpty ? [] : Array(brute.first!...brute.last!)
                    #expect(brute.allSatisfy { r.contains($0) }, "\(g) outputs \(o0)..<\(o1)")
                    if g.dilation == 1 { #expect(Array(r) == hull, "\(g) outputs \(o0)..<\(o1)") }
                }
            }
        }
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 100])
    func outputTilesPartitionTheOutput(tileSize: Int) {
        let plan = TilePlan(height: 13, width: 9, tileSize: tileSize, rows: Self.fsrcnn2, cols: Self.fsrcnn2)
        #expect(plan.sizes.last! == (26, 18))
        var covered = [Int](repeating: 0, count: 26 * 18)
        for tile in plan.tiles {
            for y in tile.output.rows { for x in tile.output.cols { covered[y * 18 + x] += 1 } }
            // Each region lies inside its feature map and covers what the next layer needs.
            for l in 0..<Self.fsrcnn2.count {
                let (h, w) = plan.sizes[l]
                #expect(tile.regions[l].rows.clamped(to: 0..<h) == tile.regions[l].rows)
                #expect(tile.regions[l].cols.clamped(to: 0..<w) == tile.regions[l].cols)
                let need = Self.fsrcnn2[l].inputRange(forOutput: tile.regions[l + 1].rows).clamped(to: 0..<h)
                #expect(need == tile.regions[l].rows)
            }
        }
        #expect(covered.allSatisfy { $0 == 1 })
        let tilesPerAxis = ((13 + tileSize - 1) / tileSize, (9 + tileSize - 1) / tileSize)
        #expect(plan.tiles.count == tilesPerAxis.0 * tilesPerAxis.1)
    }

    @Test func interiorTileIsGrownByTheHaloAndBorderTilesAreClipped() {
        // FSRCNN x2: context 2 (5×5) + 4·1 (3×3) + the 9×9 deconv's reach back (2) = 8 input pixels.
        #expect(TilePlan.halo(rows: Self.fsrcnn2, cols: Self.fsrcnn2) == 8)
        let plan = TilePlan(height: 40, width: 40, tileSize: 10, rows: Self.fsrcnn2, cols: Self.fsrcnn2)
        let interior = plan.tiles[1 * 4 + 1]   // input block [10, 20) × [10, 20)
        #expect(interior.output == TileRect(rows: 20..<40, cols: 20..<40))
        #expect(interior.input == TileRect(rows: 2..<28, cols: 2..<28))
        let corner = plan.tiles[0]
        #expect(corner.input == TileRect(rows: 0..<18, cols: 0..<18))
        #expect(TilePlan.halo(rows: [AxisGeometry(kernel: 1)], cols: [AxisGeometry(kernel: 1)]) == 0)
        #expect(TilePlan.halo(rows: [AxisGeometry(kernel: 3, padding: 1)], cols: [AxisGeometry(kernel: 7, padding: 3)]) == 3)
    }
}

@Suite struct TiledRunnerTests {
    /// Tiled output equals the whole-image run bit for bit, for random stacks, tile sizes and thread counts.
    @Test(arguments: 0..<32)
    func tiledEqualsWholeImage(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &+ 1000)
        let channels: ModelChannels = seed % 2 == 0 ? .y : .rgb
        let scale = [1, 2, 3, 4][seed % 4]
        let layers = randomLayers(&rng, channels: channels.count, scale: scale, depth: Int.random(in: 2...4, using: &rng))
        let model = try Model(layers: layers, scale: scale, channels: channels, residual: .none, metadata: [:])
        let (h, w) = (Int.random(in: 1...13, using: &rng), Int.random(in: 1...11, using: &rng))
        let input = Tensor(shape: [1, channels.count, h, w], data: rng.floats(channels.count * h * w, 0...1))
        let expected = try wholeImageStack(layers, input)
        #expect(expected.shape == [1, channels.count, scale * h, scale * w])
        for (tileSize, threads) in [(1, 1), (1, 3), (2, 2), (3, 4), (4, 1), (5, 2), (7, 3), (256, 1), (256, 4)] {
            var options = RunOptions()
            options.tileSize = tileSize
            options.threads = threads
            let got = try model.stackOutput(input, options: options)
            #expect(got.shape == expected.shape)
            #expect(got.data == expected.data, "seed \(seed), tile \(tileSize), threads \(threads), image \(h)×\(w), layers \(layers.map { ($0.weight.shape, $0.stride, $0.padding, $0.outputPadding, $0.dilation, $0.groups) })")
        }
    }

    @Test func fsrcnnShapedStackTiledEqualsWholeImage() throws {
        var rng = SeededRandom(seed: 7)
        for scale in [2, 3, 4] {
            let pads = [2: (4, 1), 3: (3, 0), 4: (3, 1)][scale]!
            func layer(_ cIn: Int, _ cOut: Int, _ k: Int, _ p: Int, stride: Int = 1, op: Int = 0, prelu: Bool = true) -> ModelLayer {
                ModelLayer(weight: Tensor(shape: [cIn, cOut, k, k], data: rng.floats(cIn * cOut * k * k, -0.3...0.3)),
                           bias: Tensor(shape: [cOut], data: rng.floats(cOut, -0.1...0.1)), stride: (stride, stride),
                           padding: (p, p), outputPadding: (op, op), activation: prelu ? .prelu(rng.floats(cOut, 0...0.3)) : .none)
            }
            let layers = [layer(1, 8, 5, 2), layer(8, 4, 1, 0), layer(4, 4, 3, 1), layer(4, 4, 3, 1), layer(4, 8, 1, 0),
                          layer(8, 1, 9, pads.0, stride: scale, op: pads.1, prelu: false)]
            let model = try Model(layers: layers, scale: scale, channels: .y, residual: .bicubic, metadata: [:])
            let input = Tensor(shape: [1, 1, 19, 23], data: rng.floats(19 * 23, 0...1))
            let expected = try wholeImageStack(layers, input)
            for tileSize in [1, 4, 6, 10, 64] {
                var options = RunOptions()
                options.tileSize = tileSize
                options.threads = 3
                #expect(try model.stackOutput(input, options: options).data == expected.data, "scale \(scale) tile \(tileSize)")
            }
        }
    }
}

@Suite struct ShippedModelTilingTests {
    /// Every model file shipped in models/ runs tiled bit-identically to the whole image.
    @Test func shippedModelsTiledEqualsWholeImage() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("models").path
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
        var rng = SeededRandom(seed: 99)
        for file in files {
            let model = try Model.load(path: folder + "/" + file)
            let c = model.channels.count
            let input = Tensor(shape: [1, c, 13, 10], data: rng.floats(c * 130, 0...1))
            let expected = try wholeImageStack(model.layers, input)
            for tileSize in [3, 8] {
                var options = RunOptions()
                options.tileSize = tileSize
                options.threads = 2
                #expect(try model.stackOutput(input, options: options).data == expected.data, "\(file) tile \(tileSize)")
            }
        }
    }
}
