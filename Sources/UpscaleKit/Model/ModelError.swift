/// A model file or model description that cannot be used. The message names the file (or the
/// model's name), the tensor or layer, and the problem.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}
