import ArgumentParser
import UpscaleKit
import UpscaleModels

extension ModelOptions {
    /// `-m`, `-s` and `--denoise` resolved and the weights loaded, the same way for every subcommand
    /// that runs a model, before any input is read. Weights that `-m`/`-s` do not name, or whose
    /// scale is not `-s`, are a usage error (exit 64); weights that cannot be loaded end the run
    /// (exit 1).
    func load(_ console: Console) throws -> (source: ModelSource, model: Model) {
        let source: ModelSource
        do {
            source = try resolve(builtinNames: BuiltinModels.names)
        } catch {
            console.error(modelMessage(error, name: model ?? ""))
            throw ExitCode.validationFailure
        }
        let net: Model
        do {
            net = try source.load(builtin: BuiltinModels.bytes(named:))
        } catch let error as ModelError where error.kind == .otherFormat {
            console.error(error.message)
            throw ExitCode.failure
        } catch {
            console.error(sentence(modelMessage(error, name: source.displayName))
                          + " Run `upscale info FILE` to inspect a weights file.")
            throw ExitCode.failure
        }
        if let scale, net.scale != scale {
            console.error("\(source.displayName): this model upscales by \(net.scale), not \(scale); drop -s or pick another model.")
            throw ExitCode.validationFailure
        }
        console.detail("model \(source.displayName): x\(net.scale), \(net.parameterCount) parameters")
        return (source, net)
    }
}

/// The message of an error about the model `name` (a path or a built-in name): a `ModelError`'s
/// own when it names its file (`ModelError.path`), else the error's text after `name`.
func modelMessage(_ error: Error, name: String) -> String {
    if let error = error as? ModelError, error.path != nil || name.isEmpty { return error.message }
    return name.isEmpty ? "\(error)" : "\(name): \(error)"
}

/// `text` ending in a full stop (unless it ends in one already, or in ! or ?).
func sentence(_ text: String) -> String {
    guard let last = text.last, !".!?".contains(last) else { return text }
    return text + "."
}
