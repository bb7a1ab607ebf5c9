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
