// Progress, cancellation and the non-finite check of one run, shared by its tile workers.

import Foundation

/// Progress and cancellation of one run, shared by the tile workers (all access under a lock,
/// so `progress` is never called twice at once and sees tilesDone increase).
final class RunTracker: @unchecked Sendable {
    // @unchecked: the closures below are not Sendable; they are only called inside `state.withLock`.
    private struct State {
        var done = 0
        var stopped = false
        var nonFiniteSeen = false
    }
    private let state = Locked(State())
    let total: Int
    let progress: ((Int, Int) -> Void)?
    let isCancelled: (() -> Bool)?
    /// The run's busy threads (the upscale loop's, shared with its writer thread), or nil.
    let slots: BusySlots?

    init(options: RunOptions, total: Int, slots: BusySlots? = nil) {
        self.total = total
        self.progress = options.progress
        self.isCancelled = options.isCancelled
        self.slots = slots
    }

    /// `body` as one of the run's busy threads (holding one of `slots`, when there are slots).
    func busy<T>(_ body: () throws -> T) rethrows -> T {
        guard let slots else { return try body() }
        return try slots.run(body)
    }

    /// True once `isCancelled` has returned true.
    func shouldStop() -> Bool {
        state.withLock { state in
            if !state.stopped, let isCancelled, isCancelled() { state.stopped = true }
            return state.stopped
        }
    }

    var wasStopped: Bool { state.withLock { $0.stopped } }

    /// A tile's output held NaN or ±inf: the run stops (no further tiles start) and fails.
    func sawNonFinite() {
        state.withLock { state in
            state.nonFiniteSeen = true
            state.stopped = true
        }
    }

    var nonFinite: Bool { state.withLock { $0.nonFiniteSeen } }

    func tileDone() {
        state.withLock { state in
            state.done += 1
            progress?(state.done, total)
        }
    }
}
