// Each layer of a model alone, as the tiled runner runs it: on a tile's feature map (tile² or H×W
// input pixels grown by the strides of the layers before; the output window is the input's image,
// stride·H × stride·W), into an output kept from round to round, one conv thread per tile and T
// tiles side by side. Prints per layer the median time of one round of T tiles, GFLOP/s, % of the
// T-thread peak (wall) and % of the per-core peak by CPU time (the kernel's efficiency whatever
// share of the machine it got).
import ArgumentParser
import Foundation
import UpscaleKit

struct LayerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Time each layer of a model alone, on tile-sized feature maps, one tile per thread."
    )

    @OptionGroup var timing: ThreadsAndReps

    @OptionGroup var network: ModelAndTile

    @Option(help: "Input HxW per thread instead of a square tile.")
    var size: ImageSize?

    func run() throws {
        let model = try Model.load(path: network.model)
        let threads = timing.threads
        let tile = network.tileSize(for: model)
        let peak = Peak.measure(threads: threads)
        print(peak.summary)
        let (tileH, tileW) = size.map { ($0.height, $0.width) } ?? (tile, tile)
        print("\(network.model): one \(tileH)×\(tileW) input tile per thread, \(threads) tiles at once, median of \(timing.reps)")
        print("layer  Cin→Cout  k  s   feature map   median ms   GFLOP/s   % peak  % core (CPU)  share  kernel")
        var (h, w) = (tileH, tileW)
        var rows: [(String, Double, ConvTranspose2DAlgorithm)] = []
        var total = 0.0
        for (l, layer) in model.layers.enumerated() {
            let plan = try ConvTranspose2DPlan(layer)   // fused or applied after, as in the model
            var state: UInt32 = 7
            let input = Tensor(shape: [1, layer.inChannels, h, w], data: (0..<(layer.inChannels * h * w)).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 24)
            })
            // Each worker's output stays allocated from round to round, as the runner's scratch does.
            let (outH, outW) = (layer.stride.0 * h, layer.stride.1 * w)
            let outputs = (0..<threads).map { _ in
                UnsafeMutablePointer<Float>.allocate(capacity: layer.outChannels * outH * outW)
            }
            defer { for o in outputs { o.deallocate() } }
            let series = Timing.series(reps: timing.reps) {
                input.withUnsafeBufferPointer { x in
                    // Worker t runs tile t into outputs[t], which it owns alone (the input is only read).
                    parallelFor(threads, threads: threads) { t in
                        plan.runWindow(input: x.baseAddress!, inputOrigin: (0, 0), inputSize: (h, w),
                                       outputOrigin: (0, 0), outputSize: (outH, outW), output: outputs[t], threads: 1)
                    }
                }
            }
            let flops = Double(threads) * 2 * Double(h * w * layer.inChannels * layer.weight.shape[1]
                                                     * layer.kernel.0 * layer.kernel.1)
            let seconds = series.medianWall, gflops = flops / seconds / 1e9
            total += seconds
            rows.append((String(format: "%5d %4d→%-4d %2d %2d %6d×%-6d %10.2f %9.1f %8.1f %13.1f",
                                l, layer.inChannels, layer.outChannels, layer.kernel.0, layer.stride.0, h, w,
                                seconds * 1e3, gflops, 100 * gflops / peak.wallMulti,
                                100 * flops / series.medianCPU / 1e9 / peak.perCore), seconds, plan.algorithm))
            (h, w) = (h * layer.stride.0, w * layer.stride.1)
        }
        for (text, seconds, algorithm) in rows {
            print(text + String(format: " %5.0f%%", 100 * seconds / total) + "  " + algorithm.rawValue)
        }
        print(String(format: "total %.3f s per round of %d tiles", total, threads))
    }
}
