/// Why a peer model file (ncnn `.param`/`.bin`, PyTorch `.pth`) cannot be imported. The message
/// names the file, the layer or entry, and what is supported; `kind` is for callers that branch.
public struct ImportError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The file cannot be read (missing, unreadable, too large).
        case unreadable
        /// The text or container does not follow its format (bad `.param` syntax, a broken zip).
        case syntax
        /// A layer type, parameter, storage type or pickle operation upscale does not take.
        case unsupported
        /// A weight, bias or slope blob of the wrong size, or a `.bin` that ends too early or too late.
        case blobSize
        /// The layers do not form a single chain plus the residual join, or do not fit the format.
        case graph
        /// A `.pth` whose tensors do not match the architecture named by `--arch`.
        case architecture
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
