// A writer thread: finished output bands are encoded (float → samples, zlib or JPEG) on their own
// thread while the next band computes. The queue holds at most `capacity` bands besides the one
// being written, so memory stays bounded when the encoder is the slower side.
// With one thread for the run (`-j 1`) there is no writer thread: each band is encoded on the
// caller's thread when it is put, so the run keeps to one busy thread. With N ≥ 2 the writer and
// the band's workers share N `BusySlots`: the writer holds one while it encodes a band, each worker
// one per item (a tile, an output row), so at most N threads compute at any time (`-j N`).
// The last band is the exception: nothing computes after it, so the writer takes all N slots and
// may encode it on N threads (a PNG's deflate blocks), which shortens the run's tail.
import Foundation

/// At most `capacity` threads inside `run` at once. A caller with `priority` (the writer thread)
/// goes before the others waiting: it takes the next slot freed, so the encoder is never starved
/// by a band's many short items.
// Unchecked: `free` and `priorityWaiting` are only touched under `condition`'s lock.
final class BusySlots: @unchecked Sendable {
    let capacity: Int
    private let condition = NSCondition()
    private var free: Int
    private var priorityWaiting = 0
    /// The most slots held at once, and the calls of `run` so far (read by tests).
    private(set) var mostHeld = 0, runs = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        free = self.capacity
    }

    /// `body` while holding `count` slots (at most `capacity`; waits until that many are free).
    func run<T>(priority: Bool = false, count: Int = 1, _ body: () throws -> T) rethrows -> T {
        let count = min(max(1, count), capacity)
        condition.lock()
        if priority { priorityWaiting += 1 }
        while free < count || (!priority && priorityWaiting > 0) { condition.wait() }
        if priority { priorityWaiting -= 1 }
        free -= count
        mostHeld = max(mostHeld, capacity - free)
        runs += 1
        condition.unlock()
        defer {
            condition.lock()
            free += count
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}

// Unchecked: with a writer thread, `queue`, `closed`, `running` and `failure` are only touched
// under `condition`'s lock and `writer` only on that thread; synchronous, there is no other thread.
final class BandWriterThread: @unchecked Sendable {
    private let writer: any ImageRowWriter
    private let capacity: Int
    private let slots: BusySlots?
    private let condition = NSCondition()
    private var queue: [(rows: OutputRows, last: Bool)] = []
    private var closed = false
    private var running = true
    private var failure: Error?

    /// Whether bands are written on the caller's thread, in `put`.
    let synchronous: Bool

    /// Starts the thread; every band `put` is handed to `writer.write` (or `writePacked`) in order,
    /// on that thread only, each while holding one of `slots` (when given; the last band all of
    /// them, and `writePacked` may then use that many threads). `synchronous`: no thread; `put`
    /// writes the band before it returns.
    init(writer: any ImageRowWriter, capacity: Int = 1, synchronous: Bool = false, slots: BusySlots? = nil) {
        self.writer = writer
        self.capacity = max(1, capacity)
        self.slots = slots
        self.synchronous = synchronous
        if synchronous {
            running = false
            return
        }
        let thread = Thread { self.loop() }  // the thread keeps self until its loop ends
        thread.name = "upscale band writer"
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {  // closed and drained
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
            let (band, last) = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            do {
                if let slots {
                    // The last band: nothing computes beside it, so its encoding may keep every slot busy.
                    let count = last ? slots.capacity : 1
                    try slots.run(priority: true, count: count) { try write(band, threads: count) }
                } else {
                    try write(band, threads: 1)
                }
            } catch {
                condition.lock()
                failure = error
                queue.removeAll()
                closed = true
                running = false
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    private func write(_ band: OutputRows, threads: Int) throws {
        switch band {
        case .floats(let floats): try writer.write(floats)
        case .packed(let bytes, let rows, _): try writer.writePacked(bytes, rows: rows, threads: threads)
        }
    }

    /// Queues a band; waits while the queue is full. Throws the writer's error once it has failed.
    /// `last`: no band and no other work of the run follows (the caller only closes after it).
    /// Synchronous: writes it now.
    func put(_ band: OutputRows, last: Bool = false) throws {
        if synchronous {
            if let failure { throw failure }
            precondition(!closed, "put after close")
            do { try write(band, threads: 1) } catch { failure = error; throw error }
            return
        }
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        precondition(!closed, "put after close")
        queue.append((band, last))
        condition.broadcast()
    }

    /// No more bands: waits until every queued band is written (or dropped after a failure, or
    /// when `discard`), then rethrows the writer's error if there was one.
    func close(discard: Bool = false) throws {
        if synchronous {
            closed = true
            if let failure { throw failure }
            return
        }
        condition.lock()
        if discard { queue.removeAll() }
        closed = true
        condition.broadcast()
        while running { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
    }
}
