import Foundation
import Testing
@testable import UpscaleKit

/// Stacks and graphs with layers that run as Winograd (ConvTransposeWinograd): their tiles sit on
/// the whole map's grid (AxisGeometry.alignment), so every runner gives the same bits — the tiled
/// runner at any tile size and thread count, the streamed chain at any band — and they agree with
/// the reference kernel within float rounding.
@Suite struct WinogradRunnerTests {
    /// 3 → 32 → 32 → 48 → 32 channels of stride-1 3×3 layers (Winograd), then a 32 → 3 4×4 stride-2
    /// transposed conv: n ↦ 2n, every activation kind the stack fuses or applies after.
    static func wideStack(seed: UInt64) -> [ModelLayer] {
        var rng = SeededRandom(seed: seed)
        func layer(_ cIn: Int, _ cOut: Int, k: Int = 3, stride: Int = 1, padding: Int = 1, _ activation: Activation) -> ModelLayer {
            let scale = 1.5 / Float(cIn * k * k).squareRoot()
            return ModelLayer(weight: Tensor(shape: [cIn, cOut, k, k], data: rng.floats(cIn * cOut * k * k, -scale...scale)),
                              bias: Tensor(shape: [cOut], data: rng.floats(cOut, -0.1...0.1)),
                              stride: (stride, stride), padding: (padding, padding), activation: activation)
        }
        return [layer(3, 32, .relu), layer(32, 32, .leakyReLU(0.1)), layer(32, 48, .prelu([0.2])),
                layer(48, 32, .silu), layer(32, 3, k: 4, stride: 2, padding: 1, .none)]
    }

    @Test func tiledStreamedAndWholeRunsGiveTheSameBits() throws {
        let layers = Self.wideStack(seed: 7)
        let model = try Model(layers: layers, scale: 2, channels: .rgb, residual: .none, metadata: [:])
        #expect(model.layerAlgorithms.filter { $0 == .winograd }.count == 3, "\(model.layerAlgorithms)")
        let chain = try #require(model.chain, "a Winograd stack streams as its chain")
        var rng = SeededRandom(seed: 8)
        let (h, w) = (23, 29)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let tracker = RunTracker(options: RunOptions(), total: 1 << 20)
        let reference = try model.stackWholeImage(input, tileSize: 1000, threads: 1, tracker: tracker)
        for (tile, threads) in [(5, 1), (7, 2), (13, 3), (4, 2), (1, 1)] {
            let tiled = try model.stackWholeImage(input, tileSize: tile, threads: threads, tracker: tracker)
            #expect(tiled.data.elementsEqual(reference.data) { $0.bitPattern == $1.bitPattern }, "tile \(tile), \(threads) threads")
        }
        for (band, threads) in [(1, 1), (3, 2), (8, 3)] {
            let (streamedOut, _) = try streamed(chain, input, band: band, threads: threads)
            #expect(streamedOut.data.elementsEqual(reference.data) { $0.bitPattern == $1.bitPattern }, "band \(band), \(threads) threads")
        }
        // Winograd rounds differently from the reference kernel, within float error.
        let oracle = try wholeImageStack(layers, input)
        let close = allClose(reference, oracle, rtol: 1e-4, atol: 1e-4)
        #expect(close.ok, "max |Δ| \(close.maxDiff)")
    }

    @Test(arguments: [(150, 37, 2), (150, 37, 3), (200, 19, 2)])
    func streamedChainSplitIntoVectorsOfTilesGivesTheSameBits(w: Int, h: Int, threads: Int) throws {
        // Several vectors of tiles per row (the last partial) and passes of several rows of tiles:
        // the streamed chain's work items (GraphPipeline.workItems) split both, and the bits stay
        // those of the tiled runner.
        let model = try Model(layers: Self.wideStack(seed: 17), scale: 2, channels: .rgb, residual: .none, metadata: [:])
        let chain = try #require(model.chain)
        var rng = SeededRandom(seed: UInt64(w + h))
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let tracker = RunTracker(options: RunOptions(), total: 1 << 20)
        let reference = try model.stackWholeImage(input, tileSize: 1000, threads: 1, tracker: tracker)
        for band in [5, 2 * h] {
            let (streamedOut, _) = try streamed(chain, input, band: band, threads: threads)
            #expect(streamedOut.data.elementsEqual(reference.data) { $0.bitPattern == $1.bitPattern },
                    "\(h)×\(w), band \(band), \(threads) threads")
        }
    }

    @Test(arguments: [(960, 0..<16, 0, 2), (960, 6..<22, 2, 2), (1920, 4..<8, 0, 2), (150, 1..<17, 1, 3), (64, 0..<8, 0, 2)])
    func streamedWorkItemsAreWholeVectorsOfTiles(width: Int, rows: Range<Int>, phase: Int, threads: Int) throws {
        // A Winograd layer's work items in a pass: every output element once, columns in whole
        // vectors of tiles (a slice ending inside one computes all of it), rows inside one group of
        // the kernel's tile rows, largest first; at 960 px (15 vectors) the two threads get equal work.
        var rng = SeededRandom(seed: 31)
        let plan = try ConvTranspose2DPlan(weight: Tensor(shape: [32, 32, 3, 3], data: rng.floats(32 * 32 * 9, -0.1...0.1)),
                                           padding: (1, 1), epilogue: .relu)
        let pack = try #require(plan.winograd)
        let vector = ConvTransposeWinogradPack.outputTile * pack.lanes * pack.tileVectors   // columns of one vector of tiles
        let groupRows = ConvTransposeWinogradPack.outputTile * ConvTranspose2DWinograd.itemTileRows
        let items = GraphPipeline.workItems(plan, rows: rows, phase: phase, width: width, threads: threads, slotted: false)
        var written = [Int](repeating: 0, count: rows.count * width)
        for item in items {
            for r in item.rows { for c in item.columns { written[(r - rows.lowerBound) * width + c] += 1 } }
            #expect(item.columns.lowerBound % vector == 0 && (item.columns.upperBound % vector == 0 || item.columns.upperBound == width),
                    "columns \(item.columns)")
            #expect(floorDiv(item.rows.lowerBound - phase, groupRows) == floorDiv(item.rows.upperBound - 1 - phase, groupRows),
                    "rows \(item.rows)")
        }
        #expect(written.allSatisfy { $0 == 1 }, "every element once")
        let sizes = items.map { $0.rows.count * (($0.columns.count + vector - 1) / vector) }   // rows × vectors computed
        #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 >= $1 }, "largest first: \(sizes)")
        if width == 960 && pack.lanes == 16 {
            var load = [Int](repeating: 0, count: threads)
            for size in sizes { load[load.indices.min { load[$0] < load[$1] }!] += size }
            #expect(load.max()! * threads == sizes.reduce(0, +), "loads \(load)")
        }
    }

    @Test func narrowWindowsInsideOneTileGiveTheWholeMapsBits() throws {
        // Output windows 1–5 wide starting anywhere in a tile (a tiled run's thin edges), each fed the
        // input its whole tiles read: the whole map's bits (a window inside one tile once crashed).
        var rng = SeededRandom(seed: 12)
        let (cIn, cOut, h, w) = (32, 32, 9, 14)
        let plan = try ConvTranspose2DPlan(weight: Tensor(shape: [cIn, cOut, 3, 3], data: rng.floats(cIn * cOut * 9, -0.1...0.1)),
                                           padding: (1, 1), epilogue: .leakyReLU(0.1))
        #expect(plan.algorithm == .winograd)
        let input = Tensor(shape: [1, cIn, h, w], data: rng.floats(cIn * h * w, 0...1))
        let whole = try plan.run(input, threads: 1)
        let g = AxisGeometry(kernel: 3, padding: 1, alignment: 4)
        for (top, left, rows, cols) in [(0, 5, 1, 1), (5, 1, 2, 2), (3, 6, 1, 5), (8, 13, 1, 1), (2, 9, 3, 3)] {
            let inRows = g.inputRange(forOutput: top..<(top + rows)).clamped(to: 0..<h)
            let inCols = g.inputRange(forOutput: left..<(left + cols)).clamped(to: 0..<w)
            var window = [Float]()
            for c in 0..<cIn { for y in inRows { for x in inCols { window.append(input.data[(c * h + y) * w + x]) } } }
            var out = [Float](repeating: .nan, count: cOut * rows * cols)
            window.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in
                    plan.runWindow(input: x.baseAddress!, inputOrigin: (inRows.lowerBound, inCols.lowerBound),
                                   inputSize: (inRows.count, inCols.count), outputOrigin: (top, left),
                                   outputSize: (rows, cols), output: y.baseAddress!, threads: 2)
                }
            }
            for c in 0..<cOut { for y in 0..<rows { for x in 0..<cols {
                let (got, want) = (out[(c * rows + y) * cols + x], whole.data[(c * h + top + y) * w + left + x])
                #expect(got.bitPattern == want.bitPattern, "window \((top, left, rows, cols)) (\(c), \(y), \(x))")
            } } }
        }
    }
}
