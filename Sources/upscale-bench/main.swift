// upscale-bench: micro-benchmarks of the engine (not tests; see benchmarks/README.md).
//
//   upscale-bench peak [--threads T]                  this machine's FP32 FMA peak, 1 and T threads
//   upscale-bench convt [--threads T] [--reps R] [--shape NAME]
//                                                     conv_transpose2d on the shape table
//   upscale-bench convt --serve --shape NAME [--threads T]
//                                                     one timed call per "run" line on stdin
//                                                     (benchmarks/torch_convt.py interleaves with it)
//   upscale-bench net --model PATH --input FILE --size HxW [--threads T] [--reps R] [--tile N]
//                     [--output FILE] [--serve]       a model's whole stack through the tiled runner
//                                                     (benchmarks/compare.py drives --serve)
//   upscale-bench layers --model PATH [--tile N] [--threads T] [--reps R]
//                                                     each layer alone on tile-sized feature maps
//   upscale-bench kernels [--threads T] [--reps R] [--shape NAME]
//                                                     wide vs narrow conv kernel, paired, issue 17's layers
import Foundation
import UpscaleKit

let arguments = Array(CommandLine.arguments.dropFirst())
ProcessMemory.keepFreedMemory()   // as `upscale` does
do {
    switch arguments.first {
    case "peak":
        let options = try BenchOptions(Array(arguments.dropFirst()))
        printPeak(threads: options.threads)
    case "convt":
        let options = try BenchOptions(Array(arguments.dropFirst()))
        try ConvTransposeBench.main(options)
    case "net":
        let options = try BenchOptions(Array(arguments.dropFirst()))
        try NetworkBench.main(options)
    case "layers":
        let options = try BenchOptions(Array(arguments.dropFirst()))
        try LayerBench.main(options)
    case "kernels":
        let options = try BenchOptions(Array(arguments.dropFirst()))
        try KernelBench.main(options)
    default:
        print("usage: upscale-bench peak|convt|net|layers|kernels [--threads T] [--reps R] [--shape NAME] [--serve]")
        print("       upscale-bench net --model PATH --input FILE --size HxW [--tile N] [--output FILE]")
        print("shapes: \(ConvTransposeShape.table.map(\.name).joined(separator: ", "))")
        exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 2)
    }
} catch {
    FileHandle.standardError.write("upscale-bench: \(error)\n".data(using: .utf8)!)
    exit(2)
}

/// Command-line options shared by the subcommands.
struct BenchOptions {
    var threads = 2
    var reps = 7
    var shape: String?
    var serve = false
    var model: String?
    var input: String?
    var output: String?
    var size: (height: Int, width: Int)?
    var tile: Int?

    init(_ args: [String]) throws {
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < args.count else { throw BenchError("\(args[i - 1]) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--threads": threads = Int(try value()) ?? 0
            case "--reps": reps = Int(try value()) ?? 0
            case "--shape": shape = try value()
            case "--serve": serve = true
            case "--model": model = try value()
            case "--input": input = try value()
            case "--output": output = try value()
            case "--tile": tile = Int(try value()) ?? 0
            case "--size":
                let parts = try value().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw BenchError("--size needs HxW, e.g. 1080x1920") }
                size = (parts[0], parts[1])
            default: throw BenchError("unknown option \(args[i])")
            }
            i += 1
        }
        guard threads >= 1, reps >= 1 else { throw BenchError("--threads and --reps must be positive integers") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Seconds since an arbitrary origin, monotonic.
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// CPU seconds used by all threads of this process: unlike wall time, it does not count the
/// time other processes of a shared machine hold the cores.
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                 : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
