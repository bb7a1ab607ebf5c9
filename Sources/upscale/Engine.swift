import Foundation
import UpscaleKit

/// The CLI's only contact with the engine and the codecs: load a model, upscale one file.
/// Each step is one library call; everything here turns options into library options.
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

    /// Reads `job.input`, upscales it, writes `job.output` (atomically); fills the report's sizes.
    /// - Throws: `CancellationError` when `isCancelled` turned true; codec and model errors otherwise.
    static func run(_ job: BatchJob, model: Model, settings: Settings, report: inout FileReport,
                    progress: @escaping (Int, Int) -> Void, isCancelled: @escaping () -> Bool) throws {
        var decode = DecodeOptions()
        decode.applyOrientation = settings.applyOrientation
        if let maxPixels = settings.maxPixels { decode.maxPixels = maxPixels }

        // open input
        let image: RasterImage
        var inputFormat = ImageFormat(path: job.input.path)
        if job.input.isStdin {
            let bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            inputFormat = ImageFormat.sniff(bytes)
            image = try ImageCodec.decode(bytes: bytes, name: "stdin", options: decode)
        } else {
            image = try ImageCodec.decode(path: job.input.path, options: decode)
        }
        report.inputWidth = image.width
        report.inputHeight = image.height
        if isCancelled() { throw CancellationError() }

        // run
        var run = RunOptions()
        if let tile = settings.tileSize { run.tileSize = tile }
        if let threads = settings.threads { run.threads = threads }
        run.tta = settings.tta
        run.progress = progress
        run.isCancelled = isCancelled
        let (color, alpha) = try model.upscale(color: image.color, alpha: image.alpha, options: run)
        let result = RasterImage(color: color, alpha: alpha, bitDepth: image.bitDepth, metadata: image.metadata)
        report.outputWidth = result.width
        report.outputHeight = result.height
        if isCancelled() { throw CancellationError() }

        // write
        var encode = EncodeOptions()
        encode.format = job.format ?? inputFormat
        encode.jpegQuality = settings.jpegQuality
        encode.overwrite = settings.overwrite
        if job.output == "-" {
            let bytes = try ImageCodec.encode(result, format: encode.format ?? .png, options: encode)
            FileHandle.standardOutput.write(Data(bytes))
            report.bytes = bytes.count
        } else {
            let folder = (job.output as NSString).deletingLastPathComponent
            if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw BatchError(path: folder, message: "cannot create the output folder; check the path and its permissions.")
                }
            }
            let notes = try ImageCodec.encode(result, to: job.output, options: encode)
            report.notes = notes.isEmpty ? nil : notes
            let size = (try? FileManager.default.attributesOfItem(atPath: job.output)[.size]) as? NSNumber
            report.bytes = size?.intValue
        }
    }

    /// Removes the temporary files of outputs being written right now.
    static func removeTemporaryFiles() {
        AtomicFile.removeAllInFlight()
    }
}
