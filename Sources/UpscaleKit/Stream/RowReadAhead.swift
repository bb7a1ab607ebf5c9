// Reading ahead: the next band's image rows are read and converted to model space on a thread of
// their own while the current band's tiles run, instead of on the loop's thread between bands,
// where a core waited: the writer, the other work at that moment, encodes a band faster than the
// next band's rows are decoded (at ×2 a band's PNG or JPEG takes less time than its input's
// decode and YCbCr), and before this the tiles of the next band could not start until they were.
//
// The reads are the loop's own reads, in the same order and of the same sizes, only earlier; one
// read at a time touches the source (the loop takes a read's rows before it asks for the next, and
// reads nothing itself meanwhile), so the rows and the output are the same bits. With -j N the
// read holds one of the run's busy slots, like the writer, so at most N threads compute; it takes
// one only when nothing else waits for it (BusySlots' background), so it runs where the band's
// last tiles leave a core idle, not in place of a tile, and otherwise once the loop waits for it.
import Foundation

/// One read at a time, on its own thread: `start` a read, later `take` its value (or its error).
// Unchecked: `pending` and `result` are only touched under `condition`'s lock; `work` runs on the
// reading thread alone, while the caller waits for it in `take` or `finish` before the next.
final class RowReadAhead<Value>: @unchecked Sendable {
    private let slots: BusySlots?
    private let condition = NSCondition()
    private var pending = false
    private var work: (() throws -> Value)?
    private var result: Result<Value, Error>?

    /// Reads hold one of `slots` (when given, in the background) while they run.
    init(slots: BusySlots?) {
        self.slots = slots
    }

    /// Whether a read was started and not yet taken.
    var isPending: Bool { condition.withLock { pending } }

    /// Starts `work` on its own thread. Only one read at a time: the last one must have been taken.
    func start(_ work: @escaping () throws -> Value) {
        condition.withLock {
            precondition(!pending, "a read ahead is still pending")
            pending = true
            result = nil
            self.work = work
        }
        let thread = Thread { self.run() }
        thread.name = "upscale read ahead"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The reading thread: runs the started work (in a slot) and hands its result over.
    private func run() {
        guard let work = condition.withLock({ self.work }) else { preconditionFailure("a read without work") }
        let value = Result { () throws -> Value in
            if let slots { return try slots.run(background: true, work) }
            return try work()
        }
        condition.withLock {
            result = value
            self.work = nil
            condition.broadcast()
        }
    }

    /// The started read's value, once it is done; rethrows its error.
    func take() throws -> Value {
        condition.lock()
        precondition(pending, "no read ahead to take")
        while result == nil { condition.wait() }
        let value = result!
        pending = false
        result = nil
        condition.unlock()
        return try value.get()
    }

    /// Waits for a started read and drops it (its error too): before the source is left, when the
    /// loop stops early.
    func finish() {
        if isPending { _ = try? take() }
    }
}
