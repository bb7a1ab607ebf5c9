/// A model file or model description that cannot be used, or a run the model could not finish.
/// The message names the file (or the model's name), the tensor or layer, and the problem.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, for callers that act on it (never parse `message`).
    public enum Kind: Sendable, Equatable {
        /// The file or description is unusable (bad header, shapes, values, metadata).
        case invalid
        /// The network's output held NaN or infinite values (weights that overflow float).
        case nonFiniteOutput
        /// The file is of another known kind (an ncnn .param or .bin, a PyTorch .pth, an image);
        /// the message says which, and what to do with it.
        case otherFormat
    }

    public let kind: Kind
    public let message: String
    /// The model file (or built-in model's name) the message names at its start; nil when it names
    /// none (a message from a run names the model's own name, `metadata["name"]`, if any), so that
    /// a caller can put the file before it. Callers never look for it in `message`.
    public let path: String?
    public var description: String { message }
    public init(_ message: String, kind: Kind = .invalid, path: String? = nil) {
        self.message = message
        self.kind = kind
        self.path = path
    }
}
