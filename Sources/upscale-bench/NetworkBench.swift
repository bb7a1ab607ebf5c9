// A whole network (a model file's conv stack) on one input tensor, through the engine's runner.
//
// Times `Model.stackOutput(_:options:)`, the call `upscale` makes for the network (tiled, the CLI's
// default tile size, the stack alone: no colour conversion, no residual, no clamp), on a raw
// float32 tensor that benchmarks/compare.py writes, and optionally dumps the output so that the
// script can check it against PyTorch, ONNX Runtime and OpenVINO.
//
//   input  file: (1, C, H, W) float32, little-endian, C order, no header
//   output file: (1, C, scale·H, scale·W) float32, the same layout
import Foundation
import UpscaleKit

enum NetworkBench {
    static func main(_ options: BenchOptions) throws {
        guard let modelPath = options.model, let inputPath = options.input, let size = options.size else {
            throw BenchError("net needs --model PATH --input FILE --size HxW")
        }
        let model = try Model.load(path: modelPath)
        let input = try readTensor(inputPath, shape: [1, model.channels.count, size.height, size.width])
        var run = RunOptions()
        run.threads = options.threads
        if let tile = options.tile { run.tileSize = tile }
        if options.serve { return try serve(model, input, run) }

        var output = try model.stackOutput(input, options: run)   // warm-up
        var times: [Double] = []
        for _ in 0..<options.reps {
            let start = now()
            output = try model.stackOutput(input, options: run)
            times.append(now() - start)
        }
        let flops = 2 * model.macsPerOutputPixel * Double(output.shape[2] * output.shape[3])
        print(String(format: "%@: median %.3f s, min %.3f s over %d runs, %.1f GFLOP/s, tile %d, %d threads",
                     modelPath, median(times), times.min()!, options.reps, flops / median(times) / 1e9,
                     run.tileSize, run.threads))
        if let path = options.output { try writeTensor(output, path) }
    }

    /// For benchmarks/compare.py: loads the model and the input, runs once, prints "ready", then
    /// per stdin line: "run" times one `stackOutput` and prints its wall and CPU seconds (all threads of
    /// this process); "dump PATH" writes the
    /// last output to PATH and prints "ok"; "quit" or end of input stops.
    static func serve(_ model: Model, _ input: Tensor, _ run: RunOptions) throws {
        var output = try model.stackOutput(input, options: run)
        print("ready")
        fflush(stdout)
        while let line = readLine(), line != "quit" {
            if line == "run" {
                let (start, cpuStart) = (now(), cpuNow())
                output = try model.stackOutput(input, options: run)
                print(String(format: "%.6f %.6f", now() - start, cpuNow() - cpuStart))
            } else if line.hasPrefix("dump ") {
                try writeTensor(output, String(line.dropFirst(5)))
                print("ok")
            } else {
                throw BenchError("unknown command \(line) (run, dump PATH, quit)")
            }
            fflush(stdout)
        }
    }

    static func readTensor(_ path: String, shape: [Int]) throws -> Tensor {
        let count = Tensor.elementCount(shape)
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read \(path)") }
        guard data.count == count * MemoryLayout<Float>.size else {
            throw BenchError("\(path): \(data.count) bytes, expected \(count) float32 for shape \(shape)")
        }
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.copyBytes(to: buffer)
            initialized = count
        }
        return Tensor(shape: shape, data: values)
    }

    static func writeTensor(_ tensor: Tensor, _ path: String) throws {
        let data = tensor.withUnsafeBufferPointer { Data(buffer: $0) }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw BenchError("cannot write \(path)") }
    }
}

/// `upscale-bench layers --model PATH [--tile N | --size HxW] [--threads T] [--reps R]`: each layer of a model
/// alone, as the tiled runner runs it: on a tile's feature map (tile² or H×W input pixels grown by the
/// strides of the layers before; the output window is the input's image, stride·H × stride·W), into
/// an output kept from round to round, one conv thread per tile and T tiles side by side. Prints per
/// layer the median time of one round of T tiles, GFLOP/s, % of the T-thread peak (wall) and
/// % of the per-core peak by CPU time (the kernel's efficiency whatever share of the machine it got).
enum LayerBench {
    static func main(_ options: BenchOptions) throws {
        guard let modelPath = options.model else { throw BenchError("layers needs --model PATH") }
        let model = try Model.load(path: modelPath)
        let tile = options.tile ?? RunOptions().tileSize
        let peak = Peak.measure(threads: options.threads)
        print(peak.summary)
        let (tileH, tileW) = options.size ?? (tile, tile)
        print("\(modelPath): one \(tileH)×\(tileW) input tile per thread, \(options.threads) tiles at once, median of \(options.reps)")
        print("layer  Cin→Cout  k  s   feature map   median ms   GFLOP/s   % peak  % core (CPU)  share")
        var (h, w) = (tileH, tileW)
        var rows: [(String, Double)] = []
        var total = 0.0
        for (l, layer) in model.layers.enumerated() {
            let plan = try ConvTranspose2DPlan(weight: layer.weight, bias: layer.bias, stride: layer.stride,
                                               padding: layer.padding, outputPadding: layer.outputPadding,
                                               groups: layer.groups, dilation: layer.dilation, epilogue: layer.activation)
            var state: UInt32 = 7
            let input = Tensor(shape: [1, layer.inChannels, h, w], data: (0..<(layer.inChannels * h * w)).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 24)
            })
            // Each worker's output stays allocated from round to round, as the runner's scratch does.
            let (outH, outW) = (layer.stride.0 * h, layer.stride.1 * w)
            let outputs = (0..<options.threads).map { _ in
                UnsafeMutablePointer<Float>.allocate(capacity: layer.outChannels * outH * outW)
            }
            defer { for o in outputs { o.deallocate() } }
            func round() -> (Double, Double) {
                let (start, cpuStart) = (now(), cpuNow())
                input.withUnsafeBufferPointer { x in
                    // Worker t runs tile t into its own output (nothing shared is written).
                    // Worker t owns outputs[t] alone (the input is only read).
                    parallelFor(options.threads, threads: options.threads) { t in
                        plan.runWindow(input: x.baseAddress!, inputOrigin: (0, 0), inputSize: (h, w),
                                       outputOrigin: (0, 0), outputSize: (outH, outW), output: outputs[t], threads: 1)
                    }
                }
                return (now() - start, cpuNow() - cpuStart)
            }
            _ = round()
            var times: [Double] = [], cpu: [Double] = []
            for _ in 0..<options.reps { let (t, c) = round(); times.append(t); cpu.append(c) }
            let flops = Double(options.threads) * 2 * Double(h * w * layer.inChannels * layer.weight.shape[1]
                                                            * layer.kernel.0 * layer.kernel.1)
            let seconds = median(times), gflops = flops / seconds / 1e9
            total += seconds
            rows.append((String(format: "%5d %4d→%-4d %2d %2d %6d×%-6d %10.2f %9.1f %8.1f %13.1f",
                                l, layer.inChannels, layer.outChannels, layer.kernel.0, layer.stride.0, h, w,
                                seconds * 1e3, gflops, 100 * gflops / peak.wallMulti,
                                100 * flops / median(cpu) / 1e9 / peak.perCore), seconds))
            (h, w) = (h * layer.stride.0, w * layer.stride.1)
        }
        for (text, seconds) in rows { print(text + String(format: " %5.0f%%", 100 * seconds / total)) }
        print(String(format: "total %.3f s per round of %d tiles", total, options.threads))
    }
}
