import Foundation

/// Where the weights of a run come from, decided from `-m` and `-s` before anything is loaded.
/// The library carries no weights: the built-in models' names and bytes come from the caller.
public enum ModelSource: Sendable, Equatable {
    /// A model embedded in the binary, by name (`x2`).
    case builtin(String)
    /// A weights file on disk.
    case file(String)

    /// Resolves `-m NAME|PATH` and `-s SCALE`; throws `ModelError` of kind `.unresolved` when
    /// neither a file nor a built-in model fits.
    ///
    /// - `-m` naming an existing file wins: that file.
    /// - `-m x2` or `-m x2.bin` with no such file: the built-in model of that name.
    /// - `-s N` alone: the built-in `xN`. Neither: the built-in `x2`.
    /// - `-m` and `-s` together must agree; the model's real scale is checked again after loading.
    /// - `--denoise N` (1...3) picks the built-in `xS-denoiseN` of the scale `-s` or `-m xS` names;
    ///   0 is the clean model. It does not apply to a weights file.
    public static func resolve(model: String?, scale: Int?, denoise: Int = 0, builtinNames: [String],
                               fileExists: (String) -> Bool = FileSystem.exists) throws -> ModelSource {
        let level = denoise > 0 ? "-denoise\(denoise)" : ""
        guard let model else {
            let name = "x\(scale ?? 2)" + level
            guard builtinNames.contains(name) else {
                let what = denoise > 0 ? "denoise level \(denoise) at scale \(scale ?? 2)" : "scale \(scale ?? 2)"
                throw ModelError("\(name): no built-in model for \(what); "
                    + Self.availableText(builtinNames) + " Pass -m PATH to use a weights file.", kind: .unresolved, path: name)
            }
            return .builtin(name)
        }
        if fileExists(model) {
            guard denoise == 0 else {
                throw ModelError("\(model): --denoise picks a built-in model; a weights file runs as it is, so drop "
                                 + "--denoise or -m.", kind: .unresolved, path: model)
            }
            return .file(model)
        }
        var name = model.hasSuffix(".bin") ? String(model.dropLast(4)) : model
        if denoise > 0, !name.contains("-denoise") { name += level }
        if !model.contains("/"), builtinNames.contains(name) {
            if denoise > 0, !name.hasSuffix(level) {
                throw ModelError("\(model): the built-in model \(name) is not denoise level \(denoise); drop --denoise "
                                 + "or pick -m \(name.prefix { $0 != "-" }).", kind: .unresolved, path: model)
            }
            if let scale, !(name == "x\(scale)" || name.hasPrefix("x\(scale)-")) {
                throw ModelError("\(model): the built-in model \(name) does not upscale by \(scale); drop -s or pick -m x\(scale).",
                                 kind: .unresolved, path: model)
            }
            return .builtin(name)
        }
        let named = denoise > 0 ? "\(model) with --denoise \(denoise): no such weights file, and no built-in model \(name); "
                                : "\(model): no such weights file, and no built-in model of that name; "
        throw ModelError(named + Self.availableText(builtinNames) + " Check the path.", kind: .unresolved, path: model)
    }

    /// Loads the weights: the file, or the built-in model's bytes that `builtin` gives for its name.
    /// - Throws: `ModelError` (`.unresolved` for a built-in name `builtin` does not know, `.invalid`
    ///   for a file that cannot be used).
    public func load(builtin: (String) -> [UInt8]?) throws -> Model {
        switch self {
        case .file(let path):
            return try Model.load(path: path)
        case .builtin(let name):
            guard let bytes = builtin(name) else {
                throw ModelError("\(name): no built-in model of that name; run `upscale models` to list them.", kind: .unresolved, path: name)
            }
            return try Model(bytes: bytes, name: name)
        }
    }

    static func availableText(_ names: [String]) -> String {
        names.isEmpty ? "this binary has no built-in models." : "built-in models: \(names.joined(separator: ", "))."
    }

    public var displayName: String {
        switch self {
        case .builtin(let name): return name
        case .file(let path): return path
        }
    }
}
