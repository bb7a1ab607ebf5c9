// `upscale-bench kernels`: the wide and the narrow conv_transpose2d kernel on the stride-1 layers of
// issue 17's networks, paired call by call in one process.
import ArgumentParser
import Foundation
import UpscaleKit

struct KernelCommand: ParsableCommand, ShapeTable {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the wide and the narrow conv kernel on issue 17's stride-1 layers, paired call by call."
    )

    @OptionGroup var timing: ThreadsAndReps

    @OptionGroup var choice: ShapeChoice<KernelCommand>

    /// The stride-1 layer shapes of waifu2x upconv_7 (valid 3×3 convolutions: padding 2 as a
    /// transposed conv) and Real-ESRGAN SRVGGNetCompact ("same": padding 1), on a 136×240 feature
    /// map (a 256-pixel tile of a 540×960 input is about that size per thread).
    static let table: [ConvTransposeShape] = [
        .init(name: "upconv7_16_32", input: [1, 16, 136, 240], weight: [16, 32, 3, 3], padding: 2),
        .init(name: "upconv7_32_64", input: [1, 32, 136, 240], weight: [32, 64, 3, 3], padding: 2),
        .init(name: "upconv7_64_128", input: [1, 64, 136, 240], weight: [64, 128, 3, 3], padding: 2),
        .init(name: "upconv7_128_128", input: [1, 128, 136, 240], weight: [128, 128, 3, 3], padding: 2),
        .init(name: "upconv7_128_256", input: [1, 128, 136, 240], weight: [128, 256, 3, 3], padding: 2),
        .init(name: "srvgg_64_64", input: [1, 64, 136, 240], weight: [64, 64, 3, 3], padding: 1),
    ]

    /// Alternates one narrow and one wide call (order swapped every round) `reps` times per shape and
    /// prints the medians, the median of the paired ratios narrow / wide, and each kernel's
    /// GFLOP/s per CPU second as a fraction of the per-core peak.
    func run() throws {
        let shapes = choice.shapes
        let (threads, reps) = (timing.threads, timing.reps)
        let peak = Peak.measure(threads: threads)
        print(peak.summary)
        print("narrow vs wide kernel, \(threads) threads, \(reps) paired rounds (plan built once; run only).")
        print("name               narrow ms   wide ms   paired narrow/wide   narrow % core   wide % core")
        for shape in shapes {
            let t = shape.tensors()
            func plan(_ kernel: ConvTranspose2DKernelChoice) throws -> ConvTranspose2DPlan {
                try ConvTranspose2DPlan(weight: t.weight, bias: t.bias, stride: (shape.stride, shape.stride),
                                        padding: (shape.padding, shape.padding), epilogue: .leakyReLU(0.1),
                                        kernel: kernel)
            }
            let plans = [try plan(.narrow), try plan(.automatic)]
            func call(_ p: ConvTranspose2DPlan) throws -> Timing {
                try Timing.of { _ = try p.run(t.input, threads: threads) }
            }
            for p in plans { _ = try call(p) }
            var wall: [[Double]] = [[], []], cpu: [[Double]] = [[], []]
            for rep in 0..<reps {
                for k in (rep % 2 == 0 ? [0, 1] : [1, 0]) {
                    let r = try call(plans[k])
                    wall[k].append(r.wall)
                    cpu[k].append(r.cpu)
                }
            }
            let ratio = median(zip(wall[0], wall[1]).map { $0 / $1 })
            let core = (0..<2).map { 100 * shape.flops / median(cpu[$0]) / 1e9 / peak.perCore }
            print(shape.name.padding(toLength: 18, withPad: " ", startingAt: 0) +
                  String(format: " %9.2f %9.2f %15.2f× %15.1f %13.1f", median(wall[0]) * 1e3, median(wall[1]) * 1e3,
                         ratio, core[0], core[1]))
        }
    }
}
