// A value shared between threads, read and changed only under its lock: the one lock type of
// the package (the tile workers' shared counters, the scratch pool, progress, the CLI's console).
import Foundation

/// A value behind a lock. Every access is one `withLock` call, so no thread sees the value
/// half-changed, and a change made of several steps (read, then write) is one step to the others.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, with `lock` held.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` on the value with the lock held; `body` must not call `withLock` on this value.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
