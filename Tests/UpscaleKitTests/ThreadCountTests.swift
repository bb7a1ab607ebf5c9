import Foundation
import Testing
@testable import UpscaleKit

/// `threads` is a value passed from the caller to every parallel loop: `upscale eval -j 1` runs
/// the whole evaluation (degradation, network, residual, colour, clamps, bicubic baseline, luma)
/// on one thread. Checked by tracing every `parallelFor` call: the `threads` each was handed (not
/// only the workers it started, which a small loop caps at its item count) and the threads that
/// really ran its items.
@Suite struct ThreadCountTests {
    /// An RGB "HR" image, (1, 3, 66, 50): big enough for many tiles and multi-row resize loops.
    static func highResolution() -> Tensor {
        var rng = SeededRandom(seed: 16)
        return Tensor(shape: [1, 3, 66, 50], data: rng.floats(3 * 66 * 50, 0...1))
    }

    /// Every parallel loop of `eval`'s work for one image, on `threads` workers, as the CLI runs it.
    static func traceEvaluation(threads: Int) throws -> [ParallelTrace.Call] {
        let model = try smallModel()   // y model, bicubic residual: colour conversion both ways
        var options = RunOptions()
        options.threads = threads
        options.tileSize = 8
        let trace = ParallelTrace()
        try ParallelTrace.$current.withValue(trace) {
            _ = try SuperResolutionEval.evaluate(hr: highResolution(), scale: model.scale, threads: threads) { lr in
                try model.upscale(color: lr, alpha: nil, options: options).color
            }
        }
        return trace.calls
    }

    @Test func oneThreadRunsEveryLoopOnTheCallingThread() throws {
        let calls = try Self.traceEvaluation(threads: 1)
        #expect(calls.count > 10, "the trace saw \(calls.count) parallel loops")
        let strays = calls.filter { $0.threads != 1 || $0.workers != 1 || $0.itemThreads != 1 }
        #expect(strays.isEmpty,
                "loops not on one thread (threads, workers, item threads): \(strays.map { ($0.threads, $0.workers, $0.itemThreads) })")
    }

    /// The control: the same trace sees the workers when there are several, so the test above
    /// cannot pass by missing the loops.
    @Test func threeThreadsReachTheLoops() throws {
        let calls = try Self.traceEvaluation(threads: 3)
        #expect(calls.contains { $0.threads == 3 && $0.workers == 3 })
        #expect(calls.allSatisfy { $0.threads <= 3 && $0.itemThreads <= $0.workers })
    }
}
