// The persistent workers behind `parallelFor`: threads that wait for the next call spinning for a
// short while before they sleep, so that the thousands of short parallel calls of a streamed graph
// (each node of each pass) do not each pay a thread wake-up. Measured on SPAN ×4 at 256×256 (Zen 4,
// 2 threads, perf): with Dispatch's concurrentPerform per call ~11% of the samples were the kernel
// waking and switching threads, and the run kept 1.6 of its 2 cores busy.
//
// A call publishes its job (item count, body, a shared item counter) and opens `seats` for up to
// workers − 1 pool threads; the caller runs items too. A pool thread marks itself `active`, then
// takes a seat if one is open and runs items until the counter passes the count. The caller, done
// with items, closes the seats and waits until no pool thread is active: after that no thread can
// enter the job (a thread marks itself active before it looks at the seats), so `body` is not used
// after the call returns. One call at a time owns the pool; a call made while it is owned (another
// thread's, or a nested one from inside an item) runs on Dispatch instead, as before.
//
// The caller waits for the pool threads the same way: it spins for a short while, then sleeps until
// the last one leaves. Spinning through a long last item (a 26 ms tile of `upscale -s 4`) took a
// core from the band writer thread, which encodes beside the tiles on a 2-core machine.

import Foundation
import Synchronization

final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Spins (atomic loads) a pool thread makes before it sleeps: on the order of 50–100 µs.
    private static let spinsBeforeSleep = 50_000
    /// Spins the caller makes waiting for the pool threads to leave its call before it sleeps: on
    /// the order of 0.5–1 ms, longer than most items of a streamed graph's calls (sleeping after
    /// 50 000 made SPAN ×4 at 256×256 5% slower, Zen 4), far shorter than a tile of a big image.
    private static let callerSpinsBeforeSleep = 500_000
    /// The most pool threads (a call asking for more workers uses what there is).
    private static let maxThreads = 63

    private let owner = NSLock()            // held by the call that owns the pool
    private let bell = NSCondition()        // sleeping threads wait here for a new generation
    private let generation = Atomic<Int>(0) // bumped once per call, under `bell`
    private let seats = Atomic<Int>(0)      // pool threads that may still join the current call
    private let active = Atomic<Int>(0)     // pool threads inside a call (joined or looking)
    private let joined = NSCondition()      // the caller sleeps here until `active` is 0
    private let callerSleeps = Atomic<Bool>(false)   // set (then `active` read) by a caller about to sleep
    private let next = Atomic<Int>(0)       // the first item not taken
    // The current call's job; written by the owner before `seats` opens, read by a thread that took a seat.
    private var count = 0
    private var body: ((Int) -> Void)? = nil
    private var threads = 0                 // started; touched by the owner only

    /// `body(item)` for every item of 0..<count on the caller and up to `workers` − 1 pool threads;
    /// false (nothing run) when the pool is busy or no thread could be started.
    func run(_ count: Int, workers: Int, _ body: (Int) -> Void) -> Bool {
        guard owner.try() else { return false }
        defer { owner.unlock() }
        let helpers = min(workers - 1, Self.maxThreads)
        while threads < helpers {
            guard startThread() else { break }
            threads += 1
        }
        guard threads > 0 else { return false }
        return withoutActuallyEscaping(body) { escaping in
            self.count = count
            self.body = escaping
            next.store(0, ordering: .relaxed)
            seats.store(min(helpers, threads), ordering: .releasing)   // publishes count, body, next
            bell.lock()
            generation.add(1, ordering: .releasing)
            bell.broadcast()
            bell.unlock()
            runItems(escaping, count)
            seats.store(0, ordering: .sequentiallyConsistent)
            waitUntilNoneActive()
            self.body = nil
            return true
        }
    }

    /// The caller's wait for the pool threads to leave its call: spins, then sleeps on `joined`.
    /// The caller sets `callerSleeps` and then reads `active`, a leaving thread lowers `active` and
    /// then reads `callerSleeps` (all sequentially consistent): one of the two sees the other's
    /// write, so either the caller sees no thread active or the last thread out signals it.
    private func waitUntilNoneActive() {
        var spins = 0
        while active.load(ordering: .sequentiallyConsistent) != 0 {
            spins += 1
            if spins < Self.callerSpinsBeforeSleep { continue }
            joined.lock()
            callerSleeps.store(true, ordering: .sequentiallyConsistent)
            while active.load(ordering: .sequentiallyConsistent) != 0 { joined.wait() }
            callerSleeps.store(false, ordering: .sequentiallyConsistent)
            joined.unlock()
        }
    }

    private func runItems(_ body: (Int) -> Void, _ count: Int) {
        while true {
            let item = next.add(1, ordering: .relaxed).oldValue
            if item >= count { return }
            body(item)
        }
    }

    /// A pool thread: wait for a generation after `seen`, try to join its call, repeat. A thread
    /// starts with the generation before the call that started it, so that it joins that call too:
    /// reading the generation itself once running, it could start after the call's bump and sit out
    /// the whole call (one long call, as building a model's plans, then ran on the caller alone).
    private func loop(after seen: Int) {
        var seen = seen
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinsBeforeSleep { continue }
                bell.lock()
                while generation.load(ordering: .acquiring) == seen { bell.wait() }
                bell.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            active.add(1, ordering: .sequentiallyConsistent)
            var open = seats.load(ordering: .sequentiallyConsistent)
            while open > 0 {
                let (exchanged, original) = seats.compareExchange(expected: open, desired: open - 1,
                                                                  ordering: .sequentiallyConsistent)
                if exchanged {
                    if let body { runItems(body, count) }
                    break
                }
                open = original
            }
            let left = active.subtract(1, ordering: .sequentiallyConsistent).newValue
            if left == 0 && callerSleeps.load(ordering: .sequentiallyConsistent) {
                joined.lock()
                joined.broadcast()
                joined.unlock()
            }
        }
    }

    /// What a new pool thread starts from.
    private final class Start {
        let pool: WorkerPool
        let seen: Int
        init(pool: WorkerPool, seen: Int) { self.pool = pool; self.seen = seen }
    }

    private func startThread() -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        // The owner starts threads before it bumps the generation for its call (`run`).
        let start = Unmanaged.passRetained(Start(pool: self, seen: generation.load(ordering: .acquiring))).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            start.pool.loop(after: start.seen)
            return nil
        }, start)
        if started != 0 { Unmanaged<Start>.fromOpaque(start).release() }
        return started == 0
    }
}
