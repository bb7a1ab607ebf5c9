import Foundation
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
