// conv_transpose2d on the shape table of issue #2 (batch 1): median time, GFLOP/s, fraction of peak.
import ArgumentParser
import Foundation
import UpscaleKit

/// One row of the benchmark table. benchmarks/torch_convt.py holds the same table.
struct ConvTransposeShape {
    var name: String
    var input: [Int]                 // (1, Cin, H, W)
    var weight: [Int]                // (Cin, Cout/g, kH, kW)
    var stride = 1, padding = 0, outputPadding = 0, groups = 1, dilation = 1

    static let table: [ConvTransposeShape] = [
        .init(name: "fsrcnn_first", input: [1, 1, 540, 960], weight: [1, 56, 5, 5], padding: 2),
        .init(name: "fsrcnn_map", input: [1, 12, 540, 960], weight: [12, 12, 3, 3], padding: 1),
        .init(name: "fsrcnn_shrink", input: [1, 56, 540, 960], weight: [56, 12, 1, 1]),
        .init(name: "fsrcnn_deconv", input: [1, 56, 540, 960], weight: [56, 1, 9, 9], stride: 2, padding: 4, outputPadding: 1),
        .init(name: "conv64", input: [1, 64, 256, 256], weight: [64, 64, 3, 3], padding: 1),
        .init(name: "upconv_last", input: [1, 256, 128, 128], weight: [256, 3, 4, 4], stride: 2, padding: 1),
        .init(name: "grouped", input: [1, 64, 256, 256], weight: [64, 16, 3, 3], padding: 1, groups: 4),
        .init(name: "dilated", input: [1, 64, 256, 256], weight: [64, 64, 3, 3], padding: 2, dilation: 2),
    ]

    /// Random tensors (fixed seed) for the layer.
    func tensors() -> (input: Tensor, weight: Tensor, bias: Tensor) {
        var state: UInt32 = 12345
        func fill(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 24) - 0.5
            }
        }
        let cOut = weight[1] * groups
        return (Tensor(shape: input, data: fill(Tensor.elementCount(input))),
                Tensor(shape: weight, data: fill(Tensor.elementCount(weight))),
                Tensor(shape: [cOut], data: fill(cOut)))
    }

    /// Runs the layer once through the public entry point.
    func run(_ t: (input: Tensor, weight: Tensor, bias: Tensor), threads: Int) throws {
        let out = try convTranspose2d(t.input, weight: t.weight, bias: t.bias, stride: (stride, stride),
                                      padding: (padding, padding), outputPadding: (outputPadding, outputPadding),
                                      groups: groups, dilation: (dilation, dilation), threads: threads)
        precondition(out.count > 0)
    }

    /// 2 · multiply-accumulates, the useful flops (none on the zeros striding inserts).
    var flops: Double {
        Double(2 * input[0] * input[1] * input[2] * input[3] * weight[1] * weight[2] * weight[3])
    }
}

struct ConvTransposeCommand: ParsableCommand, ShapeTable {
    static let configuration = CommandConfiguration(
        commandName: "convt",
        abstract: "Time conv_transpose2d on the issue-2 shape table: median, GFLOP/s, fraction of peak."
    )

    @OptionGroup var timing: ThreadsAndReps

    @OptionGroup var choice: ShapeChoice<ConvTransposeCommand>

    @Flag(help: "Time one call per \"run\" line on stdin (benchmarks/torch_convt.py drives it).")
    var serve = false

    static var table: [ConvTransposeShape] { ConvTransposeShape.table }

    func run() throws {
        let shapes = choice.shapes
        let threads = timing.threads
        if serve { return try Self.serve(shapes[0], threads: threads) }

        let peak = Peak.measure(threads: threads)
        print(peak.summary)
        print("conv_transpose2d, batch 1, \(threads) threads, \(timing.reps) runs after 1 warm-up.")
        print("GFLOP/s = 2·MACs / median wall time. '% peak' = GFLOP/s / the \(threads)-thread peak measured")
        print("above (wall time, same conditions). '% core (CPU)' = 2·MACs / CPU seconds of the runs / the")
        print("per-core peak: the kernel's efficiency whatever share of a shared machine it got.")
        print("name              median ms    min ms   GFLOP/s    % peak  % core (CPU)")
        for shape in shapes {
            let t = shape.tensors()
            let series = try Timing.series(reps: timing.reps) { try shape.run(t, threads: threads) }
            let seconds = series.medianWall, gflops = shape.flops / seconds / 1e9
            let cpuGflops = shape.flops / series.medianCPU / 1e9
            print(shape.name.padding(toLength: 16, withPad: " ", startingAt: 0) +
                  String(format: " %10.2f %9.2f %9.1f %9.1f %13.1f", seconds * 1e3, series.minWall * 1e3, gflops,
                         100 * gflops / peak.wallMulti, 100 * cpuGflops / peak.perCore))
        }
    }

    /// For benchmarks/torch_convt.py: prepares the tensors, prints "ready", then times one call per
    /// "run" line read from stdin and prints its milliseconds; stops at end of input or "quit".
    static func serve(_ shape: ConvTransposeShape, threads: Int) throws {
        let t = shape.tensors()
        try shape.run(t, threads: threads)
        print("ready")
        fflush(nil)
        while let line = readLine(), line != "quit" {
            print(String(format: "%.4f", try Timing.of { try shape.run(t, threads: threads) }.wall * 1e3))
            fflush(nil)
        }
    }
}
