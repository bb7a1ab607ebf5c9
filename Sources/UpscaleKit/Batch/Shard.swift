/// One of N deterministic parts of a sorted input list, written `I/N` with 1 ≤ I ≤ N.
///
/// Item k (0-based, in sorted order) belongs to part `k % N + 1`: parts interleave, so they stay
/// balanced even when file sizes grow along the sorted list, and the union of parts 1…N holds each
/// item exactly once. A Kubernetes Indexed Job (0-based `JOB_COMPLETION_INDEX`) passes
/// `$((JOB_COMPLETION_INDEX + 1))/N`; a Slurm array `--array=1-N` passes `$SLURM_ARRAY_TASK_ID/N`.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else {
            throw BatchError(path: "", message: "--shard \(index)/\(count): the number of shards must be at least 1.", kind: .arguments)
        }
        guard (1...count).contains(index) else {
            throw BatchError(path: "", message: "--shard \(index)/\(count): the shard number must be between 1 and \(count) (shards count from 1).", kind: .arguments)
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw BatchError(path: "", message: "--shard '\(text)' is not of the form I/N, for example 2/8.", kind: .arguments)
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The items of this part, in their original order.
    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index - 1 }.map(\.element)
    }
}
