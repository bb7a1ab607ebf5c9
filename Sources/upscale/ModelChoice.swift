import UpscaleKit
import UpscaleModels

/// Which weights run each file. Without an output size, or with -m or -s, the model `ModelOptions.load`
/// loaded runs every file (FileJob refuses a target it cannot reach). With an output size and
/// neither, each file gets the smallest built-in scale, at the --denoise level, whose output
/// reaches its target (probed from its header); models are loaded once each.
final class ModelChoice {
    private let size: OutputSize?
    private let pinned: Bool
    private let denoise: Int
    private let loadedModel: Model
    private var loaded: [Int: Model] = [:]
    private let scales: [Int]

    init(size: OutputSize?, pinned: Bool, denoise: Int, loaded model: Model) {
        self.size = size
        self.pinned = pinned
        self.denoise = denoise
        loadedModel = model
        scales = Self.builtinScales(names: BuiltinModels.names, denoise: denoise)
        loaded[model.scale] = model
    }

    /// The built-in scales at `denoise` (0: the clean models x2, x3, x4; n: xS-denoise<n>).
    static func builtinScales(names: [String], denoise: Int) -> [Int] {
        let suffix = denoise > 0 ? "-denoise\(denoise)" : ""
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("x"), name.hasSuffix(suffix) else { return nil }
            return Int(name.dropFirst().dropLast(suffix.count))
        }.sorted()
    }

    /// The largest built-in scale, when the size is chosen per file (nil when -m/-s pin the model).
    var largestScale: Int? { pinned || size == nil ? nil : scales.last }

    /// The model for `job`, whose header `info` reads (only when a size is asked for and the model
    /// is not pinned). Throws `ImageIOError` when no built-in scale reaches the target.
    func model(for path: String, info: () throws -> ImageInfo) throws -> Model {
        guard let size, !pinned else { return loadedModel }
        let header = try info()
        let target = size.target(width: header.width, height: header.height)
        guard let scale = OutputSize.smallestScale(reaching: target, width: header.width, height: header.height,
                                                   among: scales) else {
            let needed = max(Double(target.width) / Double(header.width), Double(target.height) / Double(header.height))
            throw ImageIOError(path: path, message: "a \(target.width)×\(target.height) output from this "
                + "\(header.width)×\(header.height) image is ×\((needed * 100).rounded() / 100), more than the largest "
                + "built-in model (×\(scales.last ?? 0)); pass -m with a larger model or ask for a smaller size",
                kind: .unsupported)
        }
        if let model = loaded[scale] { return model }
        let source = try ModelSource.resolve(model: nil, scale: scale, denoise: denoise, builtinNames: BuiltinModels.names)
        let model = try source.load(builtin: BuiltinModels.bytes(named:))
        loaded[scale] = model
        return model
    }
}
