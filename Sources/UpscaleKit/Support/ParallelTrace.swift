import Foundation

/// A record of the `parallelFor` calls made while it is bound with `ParallelTrace.$current`, for
/// tests that check how many workers a job really used (e.g. that `threads = 1` runs everything on
/// the calling thread). The binding is task-local: it sees the calls made on the binding task's
/// thread, which are all calls once `threads = 1` (a call nested in a worker of a traced call is
/// not itself recorded, but its parent call shows the extra workers).
final class ParallelTrace: Sendable {
    /// One `parallelFor` call: the `threads` it was given, the workers it started, and the
    /// distinct threads that ran its items.
    struct Call: Sendable {
        var threads: Int
        var workers: Int
        var itemThreads: Int
    }

    /// The trace `parallelFor` reports to; nil (no recording) unless a caller binds one.
    @TaskLocal static var current: ParallelTrace?

    private let entries = Locked<[CallRecord]>([])

    init() {}

    /// The calls recorded so far, in the order they began.
    var calls: [Call] {
        entries.withLock { $0 }.map { Call(threads: $0.threads, workers: $0.workers, itemThreads: $0.itemThreadCount) }
    }

    func begin(threads: Int, workers: Int) -> CallRecord {
        let record = CallRecord(threads: threads, workers: workers)
        entries.withLock { $0.append(record) }
        return record
    }

    /// One call's counts; `ranOnCurrentThread` is called by whichever worker runs an item.
    final class CallRecord: Sendable {
        let threads: Int, workers: Int
        private let itemThreads = Locked<Set<pthread_t>>([])

        init(threads: Int, workers: Int) { (self.threads, self.workers) = (threads, workers) }

        var itemThreadCount: Int { itemThreads.withLock { $0.count } }

        func ranOnCurrentThread() {
            let me = pthread_self()
            itemThreads.withLock { _ = $0.insert(me) }
        }
    }
}
