// `upscale-bench kernels`: the conv_transpose2d kernels on the stride-1 layers of issue 17's and
// issue 26's networks, paired call by call in one process: the narrow (+Fast), the wide (+Wide), the
// direct (+Direct where it applies) and the Winograd kernel (+Winograd where it applies), and which
// of them the plan picks on this CPU.
import ArgumentParser
import Foundation
import UpscaleKit

struct KernelCommand: ParsableCommand, ShapeTable {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the narrow, wide, direct and Winograd conv kernels on stride-1 layers, paired call by call."
    )

    @Flag(help: "Leave out the narrow kernel (it is 2–4× slower on these layers).")
    var skipNarrow = false

    @Option(help: "Size the direct and Winograd kernels' register tiles for this instruction set (AVX-512 or AVX2; default: this CPU's).")
    var isa: String?

    func validate() throws {
        if let isa, VectorISA(rawValue: isa) == nil || isa == VectorISA.other.rawValue {
            throw ValidationError("--isa must be AVX-512 or AVX2.")
        }
    }

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
        // Issue 26's lone layer: 64 → 64 on a whole 540×960 map.
        .init(name: "lone_64_64_540p", input: [1, 64, 540, 960], weight: [64, 64, 3, 3], padding: 1),
        // SPAN ×4's 4-way concat (4 × 48 channels) and 1×1 conv; RRDBNet's 3×3 64 + 4·32 → 32.
        .init(name: "span_cat_192_48", input: [1, 192, 136, 240], weight: [192, 48, 1, 1]),
        .init(name: "rrdb_192_32", input: [1, 192, 136, 240], weight: [192, 32, 3, 3], padding: 1),
    ]

    /// Alternates one call of each kernel (order rotated every round) `reps` times per shape and
    /// prints the medians, the median of the paired ratios (the faster of wide and direct) / Winograd,
    /// and each kernel's GFLOP/s per CPU second as a fraction of the per-core peak (the widest FMA,
    /// `upscale-bench peak`). GFLOP/s count the direct convolution's 2·MACs for every kernel, so the
    /// Winograd kernel, which does fewer multiplications, can pass 100%.
    func run() throws {
        let shapes = choice.shapes
        let (threads, reps) = (timing.threads, timing.reps)
        let peak = Peak.measure(threads: threads)
        print(peak.summary)
        let kernels: [ConvTranspose2DKernelChoice] = (skipNarrow ? [] : [.narrow]) + [.wide, .direct, .winograd]
        let tiles = isa.flatMap(VectorISA.init(rawValue:)) ?? .current
        print("narrow / wide / direct / Winograd kernel, \(threads) threads, \(reps) paired rounds (plan built once; run only).")
        print("'% core' = 2·MACs (direct) / CPU seconds / the per-core peak above; direct and Winograd tiles sized for \(tiles.rawValue);")
        print("'auto' = the kernel the plan picks here; 'best/wino' = paired min(wide, direct) / Winograd ('-': Winograd does not apply).")
        print("name               auto      narrow ms   wide ms direct ms   wino ms best/wino  narrow %  wide %  direct %  wino %")
        for shape in shapes {
            let t = shape.tensors()
            func plan(_ kernel: ConvTranspose2DKernelChoice) throws -> ConvTranspose2DPlan {
                try ConvTranspose2DPlan(weight: t.weight, bias: t.bias, stride: (shape.stride, shape.stride),
                                        padding: (shape.padding, shape.padding), epilogue: .leakyReLU(0.1),
                                        kernel: kernel, isa: kernel == .automatic ? .current : tiles)
            }
            let plans = try kernels.map(plan)
            let automatic = try plan(.automatic).algorithm
            func call(_ p: ConvTranspose2DPlan) throws -> Timing {
                try Timing.of { _ = try p.run(t.input, threads: threads) }
            }
            for p in plans { _ = try call(p) }
            var wall = [[Double]](repeating: [], count: plans.count), cpu = wall
            for rep in 0..<reps {
                for i in plans.indices {
                    let k = (i + rep) % plans.count
                    let r = try call(plans[k])
                    wall[k].append(r.wall)
                    cpu[k].append(r.cpu)
                }
            }
            let (wide, direct, winograd) = (plans.count - 3, plans.count - 2, plans.count - 1)
            let applies = plans[winograd].algorithm == .winograd
            let ratio = median(wall[winograd].indices.map { min(wall[wide][$0], wall[direct][$0]) / wall[winograd][$0] })
            let core = plans.indices.map { 100 * shape.flops / median(cpu[$0]) / 1e9 / peak.perCore }
            let ms = plans.indices.map { median(wall[$0]) * 1e3 }
            let narrowMs = skipNarrow ? "        -" : String(format: "%9.2f", ms[0])
            let narrowCore = skipNarrow ? "       -" : String(format: "%8.1f", core[0])
            let ratioText = applies ? String(format: "%8.2f×", ratio) : "        -"
            print(shape.name.padding(toLength: 18, withPad: " ", startingAt: 0) + " " +
                  automatic.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + narrowMs +
                  String(format: " %9.2f %9.2f %9.2f ", ms[wide], ms[direct], ms[winograd]) + ratioText + "  " + narrowCore +
                  String(format: " %7.1f %9.1f %7.1f", core[wide], core[direct], core[winograd]))
        }
    }
}
