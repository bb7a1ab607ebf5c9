import Foundation
import UpscaleKit

/// The CLI's only contact with the engine and the codecs: load a model, upscale one file.
/// Each step is one library call; everything here is glue that turns options into library options.
enum Engine {
    struct Settings {
        var tileSize: Int?
        var threads: Int?
        var tta: Bool
        var applyOrientation: Bool
        var maxPixels: Int?
        var jpegQuality: Int
        var overwrite: Bool
    }

    /// Thrown when the run was interrupted while a file was in progress.
    struct Cancelled: Error {}

    static func loadModel(_ source: ModelSource) throws -> Model {
        switch source {
        case .file(let path):
            return try Model.load(path: path)
        case .builtin(let name):
            guard let bytes = BuiltinModels.bytes(named: name) else {
                throw BatchError(path: name, message: "no built-in model of that name; run `upscale models` to list them.")
            }
            return try Model(bytes: bytes, name: name)
        }
    }

    /// Reads `job.input`, upscales it, writes `job.output`; fills the report's sizes.
    static func run(_ job: BatchJob, model: Model, settings: Settings, report: inout FileReport,
                    progress: @escaping (Int, Int) -> Void, isCancelled: @escaping () -> Bool) throws {
        var decode = DecodeOptions()
        decode.applyOrientation = settings.applyOrientation
        if let maxPixels = settings.maxPixels { decode.maxPixels = maxPixels }

        // open input
        let image: RasterImage
        if job.input.isStdin {
            image = try ImageCodec.decode(bytes: readAllStdin(), name: "stdin", options: decode)
        } else {
            image = try ImageCodec.decode(path: job.input.path, options: decode)
        }
        report.inputWidth = image.width
        report.inputHeight = image.height
        if isCancelled() { throw Cancelled() }

        // run
        var run = RunOptions()
        if let tile = settings.tileSize { run.tileSize = tile }
        if let threads = settings.threads { run.threads = threads }
        run.tta = settings.tta
        run.progress = progress
        run.isCancelled = isCancelled
        let (color, alpha) = try model.upscale(color: image.color, alpha: image.alpha, options: run)
        if isCancelled() { throw Cancelled() }
        var result = image
        result.color = color
        result.alpha = alpha
        result.width = image.width * model.scale
        result.height = image.height * model.scale
        report.outputWidth = result.width
        report.outputHeight = result.height

        // write
        var encode = EncodeOptions()
        encode.format = job.format.map(imageFormat)
        encode.jpegQuality = settings.jpegQuality
        encode.overwrite = settings.overwrite
        if job.output == "-" {
            let format = job.format.map(imageFormat) ?? .png
            let bytes = try ImageCodec.encode(result, format: format, options: encode)
            FileHandle.standardOutput.write(Data(bytes))
            report.bytes = bytes.count
        } else {
            let dir = (job.output as NSString).deletingLastPathComponent
            if !dir.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                } catch {
                    throw BatchError(path: dir, message: "cannot create the output folder; check its permissions.")
                }
            }
            let notes = try ImageCodec.encode(result, to: job.output, options: encode)
            report.notes = notes.isEmpty ? nil : notes
            let size = (try? FileManager.default.attributesOfItem(atPath: job.output)[.size]) as? NSNumber
            report.bytes = size?.intValue
        }
    }

    static func imageFormat(_ name: OutputFormatName) -> ImageFormat {
        switch name {
        case .png: return .png
        case .jpeg: return .jpeg
        }
    }

    static func readAllStdin() -> [UInt8] {
        [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }

    /// Removes the temporary files of outputs being written right now.
    static func removeTemporaryFiles() {
        AtomicFile.removeAllInFlight()
    }
}
