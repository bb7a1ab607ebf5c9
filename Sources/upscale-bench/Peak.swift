// This machine's FP32 peak: a tight loop of independent SIMD8 fused multiply-adds.
//
// 12 accumulators hide the FMA latency (4 cycles × 2 pipes on Zen 3 needs ≥ 8 in flight).
// flops = iterations × 12 accumulators × 8 lanes × 2 (multiply + add).
import ArgumentParser
import UpscaleKit

struct PeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure this machine's FP32 FMA peak, per core and on 1 and T threads."
    )

    @Option(help: "Worker threads.")
    var threads = 2

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be a positive integer.") }
    }

    func run() {
        print(Peak.measure(threads: threads).summary)
    }
}

/// The FMA peak: per core (by CPU time, which contention on a shared machine does not change),
/// and by wall time on 1 and on `threads` workers (which it does).
struct Peak {
    var perCore: Double
    var wallSingle: Double
    var wallMulti: Double
    var threads: Int

    static func measure(threads: Int) -> Peak {
        let one = best(threads: 1), many = best(threads: threads)
        return Peak(perCore: max(one.perCoreCPU, many.perCoreCPU), wallSingle: one.wall, wallMulti: many.wall,
                    threads: threads)
    }

    var summary: String {
        String(format: "FP32 FMA peak: %.1f GFLOP/s per core (CPU time); measured by wall time: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads (%d idle cores would give %.1f)",
               perCore, wallSingle, wallMulti, threads, threads, perCore * Double(threads))
    }

    /// GFLOP/s of `threads` workers each running the FMA loop, best of `runs` runs, by wall time and
    /// per core by CPU time.
    static func best(threads: Int, iterations: Int = 20_000_000, runs: Int = 5) -> (wall: Double, perCoreCPU: Double) {
        var best = (wall: 0.0, perCoreCPU: 0.0)
        let sinks = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sinks.deallocate() }
        for _ in 0..<runs {
            // Worker t owns sinks[t] alone.
            let timing = Timing.of {
                parallelFor(threads, threads: threads) { t in sinks[t] = fmaLoop(iterations, seed: Float(t + 1)) }
            }
            precondition((0..<threads).allSatisfy { sinks[$0].isFinite })
            let flops = Double(iterations * threads * 12 * 8 * 2)
            best.wall = max(best.wall, flops / timing.wall / 1e9)
            best.perCoreCPU = max(best.perCoreCPU, flops / timing.cpu / 1e9)
        }
        return best
    }
}

@inline(never)
func fmaLoop(_ iterations: Int, seed: Float) -> Float {
    typealias V = SIMD8<Float>
    let m = V(repeating: 0.999_999), a = V(repeating: seed * 1e-7)
    var (x0, x1, x2, x3, x4, x5) = (V(repeating: seed), V(repeating: 1), V(repeating: 2), V(repeating: 3), V(repeating: 4), V(repeating: 5))
    var (x6, x7, x8, x9, x10, x11) = (V(repeating: 6), V(repeating: 7), V(repeating: 8), V(repeating: 9), V(repeating: 10), V(repeating: 11))
    for _ in 0..<iterations {
        x0 = a.addingProduct(x0, m); x1 = a.addingProduct(x1, m); x2 = a.addingProduct(x2, m)
        x3 = a.addingProduct(x3, m); x4 = a.addingProduct(x4, m); x5 = a.addingProduct(x5, m)
        x6 = a.addingProduct(x6, m); x7 = a.addingProduct(x7, m); x8 = a.addingProduct(x8, m)
        x9 = a.addingProduct(x9, m); x10 = a.addingProduct(x10, m); x11 = a.addingProduct(x11, m)
    }
    let sum = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11))
    return sum.sum()
}
