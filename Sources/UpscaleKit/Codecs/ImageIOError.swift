// A failed read or write, naming the file, with a kind callers switch on.

/// A failed read or write, naming the file.
public struct ImageIOError: Error, CustomStringConvertible {
    /// What went wrong, for callers that react differently (the CLI's hints); the message says it
    /// to people. Callers never parse `message`.
    public enum Kind: Sendable, Equatable {
        /// Anything not listed below: an unreadable, truncated or corrupt input, a failed write.
        case other
        /// A well-formed file of a kind this reader does not handle (a CMYK JPEG).
        case unsupported
        /// More pixels than `DecodeOptions.maxPixels`.
        case overPixelLimit
        /// The path chosen for the file would hold more than `DecodeOptions.maxMemory` bytes.
        case overMemoryBudget
        /// The output path was taken, and was left as it is (no `overwrite`). `appearedMeanwhile`:
        /// it was free when the write began, and another writer created it before the final step.
        case outputExists(appearedMeanwhile: Bool)
        /// The output path holds something that is never replaced nor written through: a device
        /// node, a FIFO, a socket, a symbolic link, a folder (`OutputPathState`).
        case outputNotRegular
        /// The input could not be opened or read (permissions, too many open files, an I/O
        /// error): the system's reason is the message, and nothing is known of the content.
        case cannotRead
    }

    /// Which file of a job the error is about, set where the error is made (a reader, a writer),
    /// so that the advice given with it is for that file: never guessed from the path.
    public enum Side: Sendable, Equatable {
        /// The image being read (a file, stdin).
        case input
        /// The image being written (a file, its temporary, stdout).
        case output
    }

    public let path: String
    public let message: String
    public let kind: Kind
    public let side: Side
    /// For `.overMemoryBudget` refusals of a known budget: how large it was and what set it (what
    /// to raise).
    public let budget: MemoryBudget.Limit?

    /// `side` is `.input` unless given: most of these errors are made by readers; writers and
    /// output files pass `.output`.
    public init(path: String, message: String, kind: Kind = .other, side: Side = .input,
                budget: MemoryBudget.Limit? = nil) {
        self.path = path
        self.message = message
        self.kind = kind
        self.side = side
        self.budget = budget
    }

    /// The same error, said to be about `side` (an error a writer passed on from a shared helper).
    public func on(_ side: Side) -> ImageIOError {
        ImageIOError(path: path, message: message, kind: kind, side: side, budget: budget)
    }

    public var description: String { "\(path): \(message)" }
}
