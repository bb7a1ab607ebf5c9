// A whole network (a model file's conv stack) on one input tensor, through the engine's runner.
//
// Times `Model.stackOutput(_:options:)`, the call `upscale` makes for the network (tiled, the CLI's
// default tile size, the stack alone: no colour conversion, no residual, no clamp; for a graph
// model `GraphModel.streamedOutput`, the streamed pipeline `upscale` runs), on a raw
// float32 tensor that benchmarks/compare.py writes, and optionally dumps the output so that the
// script can check it against PyTorch, ONNX Runtime and OpenVINO.
//
//   input  file: (1, C, H, W) float32, little-endian, C order, no header
//   output file: (1, C, scale·H, scale·W) float32, the same layout
import ArgumentParser
import Foundation
import UpscaleKit

struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "net",
        abstract: "Time a model's whole stack through the tiled runner on a raw float32 input."
    )

    @OptionGroup var timing: ThreadsAndReps

    @OptionGroup var network: ModelAndTile

    @Option(help: "The input tensor: (1, C, H, W) float32, little-endian, no header.")
    var input: String

    @Option(help: "The input's HxW, e.g. 1080x1920.")
    var size: ImageSize

    @Option(help: "Write the last output tensor here, in the input's layout.")
    var output: String?

    @Flag(help: "Time one call per \"run\" line on stdin (benchmarks/compare.py drives it).")
    var serve = false

    func run() throws {
        let model = try Model.load(path: network.model)
        let input = try Self.readTensor(self.input, shape: [1, model.channels.count, size.height, size.width])
        var run = RunOptions()
        run.threads = timing.threads
        run.tileSize = network.tileSize(for: model)
        if serve { return try Self.serve(model, input, run) }

        var last: Tensor?
        let series = try Timing.series(reps: timing.reps) { last = try Self.network(model, input, run) }
        guard let output = last else { preconditionFailure("the series ran no call") }
        let flops = 2 * model.macsPerOutputPixel * Double(output.shape[2] * output.shape[3])
        print(String(format: "%@: median %.3f s, min %.3f s over %d runs, %.1f GFLOP/s, tile %d, %d threads",
                     network.model, series.medianWall, series.minWall, timing.reps, flops / series.medianWall / 1e9,
                     run.tileSize, run.threads))
        if let path = self.output { try Self.writeTensor(output, path) }
    }

    /// For benchmarks/compare.py: loads the model and the input, runs once, prints "ready", then
    /// per stdin line: "run" times one `stackOutput` and prints its wall and CPU seconds (all threads of
    /// this process); "dump PATH" writes the last output to PATH and prints "ok"; "quit" or end of
    /// input stops.
    static func serve(_ model: Model, _ input: Tensor, _ run: RunOptions) throws {
        var output = try network(model, input, run)
        print("ready")
        fflush(nil)
        while let line = readLine(), line != "quit" {
            if line == "run" {
                let timing = try Timing.of { output = try network(model, input, run) }
                print(String(format: "%.6f %.6f", timing.wall, timing.cpu))
            } else if line.hasPrefix("dump ") {
                try writeTensor(output, String(line.dropFirst(5)))
                print("ok")
            } else {
                throw BenchError("unknown command \(line) (run, dump PATH, quit)")
            }
            fflush(nil)
        }
    }

    /// The network alone as `upscale` runs it: a stack through the tiled runner, a graph through
    /// the streamed pipeline (16 output rows per band).
    static func network(_ model: Model, _ input: Tensor, _ run: RunOptions) throws -> Tensor {
        if let graph = model.graph { return try graph.streamedOutput(input, threads: run.threads).output }
        return try model.stackOutput(input, options: run)
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
