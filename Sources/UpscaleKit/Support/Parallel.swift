import Dispatch
import Foundation

/// The machine's core count: the default worker count at the library's public entry points
/// (`RunOptions.threads`, `Resize.bicubic`, ...). There is no engine-wide setting: the number of
/// workers travels as a value from the caller down to every `parallelFor`.
public enum Threading {
    /// The number of cores the process may use.
    public static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Runs `body(item)` for every item in `0..<count` on up to `threads` workers.
///
/// This is the one parallel-for of the engine. Items are handed out one at a time from a
/// shared counter (dynamic scheduling, so uneven items balance), and each item is done by
/// exactly one worker. Callers must make items write disjoint memory; then the result does
/// not depend on the number of threads or on which worker took which item. With one worker
/// every item runs on the calling thread, in order.
public func parallelFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    guard count > 0 else { return }
    let workers = min(max(1, threads), count)
    if let trace = ParallelTrace.current {
        let call = trace.begin(threads: threads, workers: workers)
        forEachItem(count, workers: workers) { item in
            call.ranOnCurrentThread()
            body(item)
        }
    } else {
        forEachItem(count, workers: workers, body)
    }
}

/// Runs `body(range)` over [0, count) in chunks of `chunk` elements on `parallelFor`: for
/// element-wise maps, where each worker owns its chunks' elements and the split does not change
/// the result.
public func parallelChunks(_ count: Int, chunk: Int = 1 << 16, threads: Int, _ body: (Range<Int>) -> Void) {
    parallelFor((count + chunk - 1) / chunk, threads: threads) { k in
        body((k * chunk)..<min(count, (k + 1) * chunk))
    }
}

/// `body` for every item of `0..<count`: in order on this thread for one worker, else on `workers`
/// workers (this thread and the pool's, or Dispatch's) taking items from a shared counter.
private func forEachItem(_ count: Int, workers: Int, _ body: (Int) -> Void) {
    if workers == 1 {
        for item in 0..<count { body(item) }
        return
    }
    // The persistent workers (WorkerPool.swift); Dispatch when another call owns them.
    if WorkerPool.shared.run(count, workers: workers, body) { return }
    let next = Locked(0)  // the first item no worker has taken
    withoutActuallyEscaping(body) { escaping in
        // Unchecked: `body` is shared by the workers, which is safe because callers make items
        // write disjoint memory (above) and every item runs exactly once.
        nonisolated(unsafe) let body = escaping
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let item = next.withLock { first in defer { first += 1 }; return first }
                if item >= count { break }
                body(item)
            }
        }
    }
}
