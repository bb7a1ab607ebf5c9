// The one clock of the benchmarks: wall and CPU seconds of a call, and the median of a series.
import Foundation

/// Seconds one call took: by the wall clock, and in CPU time of all threads of this process, which,
/// unlike wall time, does not count the time other processes of a shared machine hold the cores.
struct Timing {
    var wall: Double
    var cpu: Double

    /// Runs `body` once and times it.
    static func of(_ body: () throws -> Void) rethrows -> Timing {
        let (wallStart, cpuStart) = (wallNow(), cpuNow())
        try body()
        return Timing(wall: wallNow() - wallStart, cpu: cpuNow() - cpuStart)
    }

    /// Runs `body` once untimed (the warm-up), then `reps` times, timing each run.
    static func series(reps: Int, _ body: () throws -> Void) rethrows -> TimingSeries {
        try body()
        var series = TimingSeries()
        for _ in 0..<reps { series.append(try of(body)) }
        return series
    }

    /// Seconds since an arbitrary origin, monotonic.
    private static func wallNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    private static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

/// The timings of repeated runs of one thing.
struct TimingSeries {
    var wall: [Double] = []
    var cpu: [Double] = []

    mutating func append(_ timing: Timing) {
        wall.append(timing.wall)
        cpu.append(timing.cpu)
    }

    var medianWall: Double { median(wall) }
    var medianCPU: Double { median(cpu) }
    var minWall: Double { wall.min() ?? .nan }
}

/// The middle value, or the mean of the two middle values of an even count.
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of no values")
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                 : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Named steps timed against each other: each repetition runs all of them in a rotating order, so
/// that all see the same load of a shared machine. A step returns the size in bytes of what it
/// wrote, or nil.
struct InterleavedSteps {
    var steps: [(name: String, body: () throws -> Int?)] = []

    mutating func add(_ name: String, _ body: @escaping () throws -> Int?) {
        steps.append((name, body))
    }

    /// Runs the first step once untimed (to page in the model and the allocator), then `reps`
    /// rounds, and prints per step the median and minimum wall seconds, the ratio of its median to
    /// the first step's, the same two for CPU seconds (all threads; the figure that holds on a
    /// loaded machine), and its output size when it has one.
    func runAndReport(reps: Int) throws {
        precondition(!steps.isEmpty, "no steps to time")
        _ = try steps[0].body()
        var series = [String: TimingSeries](), outputSizes = [String: Int]()
        for rep in 0..<reps {
            for k in 0..<steps.count {
                let step = steps[(rep + k) % steps.count]
                var size: Int?
                series[step.name, default: TimingSeries()].append(try Timing.of { size = try step.body() })
                outputSizes[step.name] = size
            }
        }
        let (baseName, base) = (steps[0].name, series[steps[0].name]!.medianWall)
        let baseCPU = series[steps[0].name]!.medianCPU
        for step in steps {
            let t = series[step.name]!
            var line = step.name.padding(toLength: 8, withPad: " ", startingAt: 0)
            line += String(format: " median %7.3f s  min %7.3f s  ×\(baseName) %.2f", t.medianWall, t.minWall,
                           t.medianWall / base)
            line += String(format: "  CPU %7.3f s  ×\(baseName) %.2f", t.medianCPU, t.medianCPU / baseCPU)
            if let size = outputSizes[step.name] { line += "  output \(size) bytes" }
            print(line)
        }
    }
}
