import Foundation

/// Where the weights of a run come from, decided from a name or path and a scale before anything is loaded.
/// The library carries no weights: the built-in models' names and bytes come from the caller.
public enum ModelSource: Sendable, Equatable {
    /// A model embedded in the binary, by name (`x2`).
    case builtin(String)
    /// A weights file on disk.
    case file(String)

    /// Why a model cannot be resolved: what was asked for and what is missing, as values. The
    /// library says nothing about flags; the CLI makes the message (and its hints) from these.
    public enum ResolveError: Error, Equatable, Sendable {
        /// No model named, and no built-in model `name` for `scale` at `denoise` (0: clean).
        case noBuiltin(name: String, scale: Int, denoise: Int)
        /// `model` names a weights file, and a denoise level was asked for: levels pick built-ins.
        case denoiseWithFile(model: String)
        /// `model` names the built-in `name`, which is not denoise level `denoise`.
        case builtinNotAtDenoiseLevel(model: String, name: String, denoise: Int)
        /// `model` names the built-in `name`, which does not upscale by `scale`.
        case builtinNotAtScale(model: String, name: String, scale: Int)
        /// `model` is neither a file nor a built-in name (`name`, with the denoise level's suffix).
        case notFound(model: String, name: String, denoise: Int)
        /// No built-in model is called `name` (the caller's table has none of that name).
        case unknownBuiltin(name: String)

        /// The model argument (or built-in name) the error is about.
        public var model: String {
            switch self {
            case .noBuiltin(let name, _, _), .unknownBuiltin(let name): return name
            case .denoiseWithFile(let model), .builtinNotAtDenoiseLevel(let model, _, _),
                 .builtinNotAtScale(let model, _, _), .notFound(let model, _, _): return model
            }
        }
    }

    /// Resolves a model name or path, a scale and a denoise level (the CLI's `-m`, `-s`,
    /// `--denoise`) to weights; throws `ResolveError` when neither a file nor a built-in model fits.
    ///
    /// - `model` naming an existing file wins: that file.
    /// - `model` `x2` or `x2.bin` with no such file: the built-in model of that name.
    /// - `scale` alone: the built-in `xN`. Neither: the built-in `x2`.
    /// - `model` and `scale` together must agree; the model's real scale is checked again after loading.
    /// - `denoise` N (1...3) picks the built-in `xS-denoiseN` of the scale `scale` or `model` `xS`
    ///   names; 0 is the clean model. It does not apply to a weights file.
    public static func resolve(model: String?, scale: Int?, denoise: Int = 0, builtinNames: [String],
                               fileExists: (String) -> Bool = FileSystem.exists) throws -> ModelSource {
        let level = denoise > 0 ? "-denoise\(denoise)" : ""
        guard let model else {
            let name = "x\(scale ?? 2)" + level
            guard builtinNames.contains(name) else {
                throw ResolveError.noBuiltin(name: name, scale: scale ?? 2, denoise: denoise)
            }
            return .builtin(name)
        }
        if fileExists(model) {
            guard denoise == 0 else { throw ResolveError.denoiseWithFile(model: model) }
            return .file(model)
        }
        var name = model.hasSuffix(".bin") ? String(model.dropLast(4)) : model
        if denoise > 0, !name.contains("-denoise") { name += level }
        if !model.contains("/"), builtinNames.contains(name) {
            if denoise > 0, !name.hasSuffix(level) {
                throw ResolveError.builtinNotAtDenoiseLevel(model: model, name: name, denoise: denoise)
            }
            if let scale, !(name == "x\(scale)" || name.hasPrefix("x\(scale)-")) {
                throw ResolveError.builtinNotAtScale(model: model, name: name, scale: scale)
            }
            return .builtin(name)
        }
        throw ResolveError.notFound(model: model, name: name, denoise: denoise)
    }

    /// Loads the weights: the file, or the built-in model's bytes that `builtin` gives for its name;
    /// `threads` workers repack them.
    /// - Throws: `ResolveError.unknownBuiltin` for a built-in name `builtin` does not know,
    ///   `ModelError` for a file that cannot be used.
    public func load(builtin: (String) -> [UInt8]?, threads: Int = 1) throws -> Model {
        switch self {
        case .file(let path):
            return try Model.load(path: path, threads: threads)
        case .builtin(let name):
            guard let bytes = builtin(name) else { throw ResolveError.unknownBuiltin(name: name) }
            return try Model(bytes: bytes, name: name, threads: threads)
        }
    }

    public var displayName: String {
        switch self {
        case .builtin(let name): return name
        case .file(let path): return path
        }
    }
}
