import ArgumentParser
import UpscaleKit
import UpscaleModels

extension ModelOptions {
    /// `-m`, `-s` and `--denoise` resolved and the weights loaded, the same way for every subcommand
    /// that runs a model, before any input is read. Weights that `-m`/`-s` do not name, or whose
    /// scale is not `-s`, are a usage error (exit 64); weights that cannot be loaded end the run
    /// (exit 1). `threads` workers repack the weights (the run's `-j`: nothing else is busy yet).
    func load(_ console: Console, threads: Int) throws -> (source: ModelSource, model: Model) {
        let source: ModelSource
        do {
            source = try resolve(builtinNames: BuiltinModels.names)
        } catch {
            console.error(modelMessage(error, name: model ?? ""))
            throw ExitCode.validationFailure
        }
        let net: Model
        do {
            net = try source.load(builtin: BuiltinModels.bytes(named:), threads: threads)
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
/// own when it names its file (`ModelError.path`), a `ModelSource.ResolveError`'s in the CLI's
/// words, else the error's text after `name`.
func modelMessage(_ error: Error, name: String) -> String {
    if let error = error as? ModelSource.ResolveError { return error.message(builtinNames: BuiltinModels.names) }
    if let error = error as? ModelError, error.path != nil || name.isEmpty { return error.message }
    return name.isEmpty ? "\(error)" : "\(name): \(error)"
}

extension ModelSource.ResolveError {
    /// What went wrong and what to do, in terms of `-m`, `-s` and `--denoise`.
    func message(builtinNames: [String]) -> String {
        let available = builtinNames.isEmpty ? "this binary has no built-in models."
            : "built-in models: \(builtinNames.joined(separator: ", "))."
        switch self {
        case .noBuiltin(let name, let scale, let denoise):
            let what = denoise > 0 ? "denoise level \(denoise) at scale \(scale)" : "scale \(scale)"
            return "\(name): no built-in model for \(what); \(available) Pass -m PATH to use a weights file."
        case .denoiseWithFile(let model):
            return "\(model): --denoise picks a built-in model; a weights file runs as it is, so drop --denoise or -m."
        case .builtinNotAtDenoiseLevel(let model, let name, let denoise):
            return "\(model): the built-in model \(name) is not denoise level \(denoise); drop --denoise "
                + "or pick -m \(name.prefix { $0 != "-" })."
        case .builtinNotAtScale(let model, let name, let scale):
            return "\(model): the built-in model \(name) does not upscale by \(scale); drop -s or pick -m x\(scale)."
        case .notFound(let model, let name, let denoise):
            let named = denoise > 0 ? "\(model) with --denoise \(denoise): no such weights file, and no built-in model \(name); "
                                    : "\(model): no such weights file, and no built-in model of that name; "
            return named + available + " Check the path."
        case .unknownBuiltin(let name):
            return "\(name): no built-in model of that name; run `upscale models` to list them."
        }
    }
}

/// `text` ending in a full stop (unless it ends in one already, or in ! or ?).
func sentence(_ text: String) -> String {
    guard let last = text.last, !".!?".contains(last) else { return text }
    return text + "."
}
