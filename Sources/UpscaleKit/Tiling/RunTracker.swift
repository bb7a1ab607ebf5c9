// Progress, cancellation and the non-finite check of one run, shared by its tile workers.

import Foundation

/// Progress and cancellation of one run, shared by the tile workers (all access under a lock,
/// so `progress` is never called twice at once and sees tilesDone increase).
final class RunTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var stopped = false
    private var nonFiniteSeen = false
    let total: Int
    let progress: ((Int, Int) -> Void)?
    let isCancelled: (() -> Bool)?

    init(options: RunOptions, total: Int) {
        self.total = total
        self.progress = options.progress
        self.isCancelled = options.isCancelled
    }

    /// True once `isCancelled` has returned true.
    func shouldStop() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if !stopped, let isCancelled, isCancelled() { stopped = true }
        return stopped
    }

    var wasStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    /// A tile's output held NaN or ±inf: the run stops (no further tiles start) and fails.
    func sawNonFinite() {
        lock.lock(); defer { lock.unlock() }
        nonFiniteSeen = true
        stopped = true
    }

    var nonFinite: Bool { lock.lock(); defer { lock.unlock() }; return nonFiniteSeen }

    func tileDone() {
        lock.lock(); defer { lock.unlock() }
        done += 1
        progress?(done, total)
    }
}
