import Foundation
import Synchronization
import Testing
@testable import UpscaleKit

/// parallelFor on the persistent workers (WorkerPool.swift): every item exactly once, whether the
/// pool is free, owned by another thread's call, or entered again from inside an item.
@Suite struct WorkerPoolTests {
    /// Counts how many times each item ran.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var counts: [Int]
        init(_ n: Int) { counts = [Int](repeating: 0, count: n) }
        func hit(_ i: Int) { lock.lock(); counts[i] += 1; lock.unlock() }
    }

    @Test(arguments: [1, 2, 3, 8])
    func everyItemRunsOnceOverManyShortCalls(threads: Int) {
        for count in [1, 2, 3, 17, 1000] {
            for _ in 0..<50 {   // many calls in a row: the workers spin, sleep and wake between them
                let tally = Tally(count)
                parallelFor(count, threads: threads) { tally.hit($0) }
                #expect(tally.counts.allSatisfy { $0 == 1 }, "\(count) items on \(threads) threads")
            }
        }
    }

    /// A call that starts new pool threads gets them: each of its items waits (up to 10 s) until
    /// every worker is inside one, which only happens when every thread it started joined it. A
    /// thread that read the generation once running could start after the call's bump and sit the
    /// call out. 37 workers: more threads than any other test starts, so this call starts some.
    @Test func threadsStartedForACallJoinIt() {
        let workers = 37
        let inside = Atomic<Int>(0), met = Atomic<Int>(0)
        let deadline = Date().addingTimeInterval(30)
        // Owning the pool: another test's call may hold it for a moment; then try again.
        while !WorkerPool.shared.run(workers, workers: workers, { _ in
            inside.add(1, ordering: .sequentiallyConsistent)
            let start = Date()
            while inside.load(ordering: .sequentiallyConsistent) < workers, Date().timeIntervalSince(start) < 10 {
                usleep(200)
            }
            if inside.load(ordering: .sequentiallyConsistent) >= workers { met.add(1, ordering: .relaxed) }
        }) {
            guard Date() < deadline else { Issue.record("the pool stayed busy"); return }
            usleep(1000)
        }
        #expect(met.load(ordering: .relaxed) == workers, "\(inside.load(ordering: .relaxed)) of \(workers) workers joined")
    }

    /// The caller sleeps, not spins, while a pool thread finishes a long last item: two items, each
    /// waiting until both have started (so the caller and a pool thread hold one each); the pool
    /// thread's then sleeps 300 ms. The caller's thread uses well under that much CPU meanwhile
    /// (spinning, it used all of it, a core the band writer thread could not have).
    @Test func theCallerSleepsThroughALongLastItem() {
        let caller = pthread_self()
        let started = Atomic<Int>(0)
        let deadline = Date().addingTimeInterval(30)
        func threadCPU() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        var cpu = 0.0
        while true {
            started.store(0, ordering: .sequentiallyConsistent)
            let before = threadCPU()
            let ran = WorkerPool.shared.run(2, workers: 2) { _ in
                started.add(1, ordering: .sequentiallyConsistent)
                let start = Date()
                while started.load(ordering: .sequentiallyConsistent) < 2, Date().timeIntervalSince(start) < 10 { usleep(100) }
                if pthread_equal(pthread_self(), caller) == 0 { usleep(300_000) }
            }
            cpu = threadCPU() - before
            if ran { break }
            guard Date() < deadline else { Issue.record("the pool stayed busy"); return }
            usleep(1000)
        }
        #expect(cpu < 0.1, "the caller used \(cpu) s of CPU waiting for a pool thread's 300 ms item")
    }

    @Test func nestedAndConcurrentCallsEachRunEveryItemOnce() {
        // Two threads call at once (one owns the pool, the other runs on Dispatch), and every item
        // of the outer calls makes an inner call (the pool is owned: Dispatch).
        let outer = 12, inner = 9
        let tallies = (0..<2).map { _ in Tally(outer * inner) }
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<20 {
                let round = Tally(outer * inner)
                parallelFor(outer, threads: 2) { i in
                    parallelFor(inner, threads: 2) { j in round.hit(i * inner + j) }
                }
                if round.counts.allSatisfy({ $0 == 1 }) { tallies[caller].hit(0) }
            }
        }
        #expect(tallies.map { $0.counts[0] } == [20, 20])
    }
}
