// This machine's FP32 peak: a tight loop of independent fused multiply-adds at the CPU's widest
// vector width: SIMD16 (one AVX-512 register) where the CPU has AVX-512, else SIMD8 (AVX2).
//
// 12 accumulators hide the FMA latency (4 cycles × 2 pipes needs ≥ 8 in flight on Zen 3, Zen 4 and
// Ice Lake). flops = iterations × 12 accumulators × lanes × 2 (multiply + add).
// Zen 4 runs a 512-bit FMA as two 256-bit halves, so there SIMD16 and SIMD8 peak alike; Ice Lake
// Xeons with two 512-bit FMA units run SIMD16 at ~1.5× the SIMD8 rate (issue 26). Timing only the
// 8-wide loop there made every "% of peak" 1.5× too high, hence the widest width.
import ArgumentParser
import UpscaleKit

struct PeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure this machine's FP32 FMA peak at its widest vector width, per core and on 1 and T threads."
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
    /// The instruction set timed: the CPU's widest (`VectorISA.current`).
    var isa: VectorISA
    var lanes: Int

    static func measure(threads: Int) -> Peak {
        let isa = VectorISA.current
        let one = best(threads: 1, lanes: isa.lanes), many = best(threads: threads, lanes: isa.lanes)
        return Peak(perCore: max(one.perCoreCPU, many.perCoreCPU), wallSingle: one.wall, wallMulti: many.wall,
                    threads: threads, isa: isa, lanes: isa.lanes)
    }

    var summary: String {
        String(format: "FP32 FMA peak (%@, SIMD%d FMAs): %.1f GFLOP/s per core (CPU time); measured by wall time: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads (%d idle cores would give %.1f)",
               isa.rawValue, lanes, perCore, wallSingle, wallMulti, threads, threads, perCore * Double(threads))
    }

    /// GFLOP/s of `threads` workers each running the FMA loop of `lanes`-wide vectors, best of `runs`
    /// runs, by wall time and per core by CPU time.
    static func best(threads: Int, lanes: Int, iterations: Int = 20_000_000, runs: Int = 5) -> (wall: Double, perCoreCPU: Double) {
        var best = (wall: 0.0, perCoreCPU: 0.0)
        let sinks = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sinks.deallocate() }
        let loopIterations = iterations * 8 / lanes   // the same flops at either width
        for _ in 0..<runs {
            // Worker t owns sinks[t] alone.
            let timing = Timing.of {
                parallelFor(threads, threads: threads) { t in
                    sinks[t] = lanes == 16 ? fmaLoop16(loopIterations, seed: Float(t + 1))
                                           : fmaLoop8(loopIterations, seed: Float(t + 1))
                }
            }
            precondition((0..<threads).allSatisfy { sinks[$0].isFinite })
            let flops = Double(loopIterations * threads * 12 * lanes * 2)
            best.wall = max(best.wall, flops / timing.wall / 1e9)
            best.perCoreCPU = max(best.perCoreCPU, flops / timing.cpu / 1e9)
        }
        return best
    }
}

@inline(never)
func fmaLoop8(_ iterations: Int, seed: Float) -> Float { fmaLoop(iterations, seed: seed, as: SIMD8<Float>.self) }

@inline(never)
func fmaLoop16(_ iterations: Int, seed: Float) -> Float { fmaLoop(iterations, seed: seed, as: SIMD16<Float>.self) }

/// 12 independent chains of `iterations` FMAs on vectors `V`.
@inline(__always)
func fmaLoop<V: SIMD>(_ iterations: Int, seed: Float, as: V.Type) -> Float where V.Scalar == Float {
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
