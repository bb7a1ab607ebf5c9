// A writer thread: finished output bands are encoded (float → samples, zlib or JPEG) on their own
// thread while the next band computes. The queue holds at most `capacity` bands besides the one
// being written, so memory stays bounded when the encoder is the slower side.
import Foundation

final class BandWriterThread: @unchecked Sendable {
    private let writer: any ImageRowWriter
    private let capacity: Int
    private let condition = NSCondition()
    private var queue: [OutputRows] = []
    private var closed = false
    private var running = true
    private var failure: Error?

    /// Starts the thread; every band `put` is handed to `writer.write` (or `writePacked`) in order,
    /// on that thread only.
    init(writer: any ImageRowWriter, capacity: Int = 1) {
        self.writer = writer
        self.capacity = max(1, capacity)
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
            let band = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            do {
                switch band {
                case .floats(let floats): try writer.write(floats)
                case .packed(let bytes, let rows, _): try writer.writePacked(bytes, rows: rows)
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

    /// Queues a band; waits while the queue is full. Throws the writer's error once it has failed.
    func put(_ band: OutputRows) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        precondition(!closed, "put after close")
        queue.append(band)
        condition.broadcast()
    }

    /// No more bands: waits until every queued band is written (or dropped after a failure, or
    /// when `discard`), then rethrows the writer's error if there was one.
    func close(discard: Bool = false) throws {
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
