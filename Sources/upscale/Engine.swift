import Foundation
import UpscaleKit
import UpscaleModels

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
        var pngLevel: Int? = nil   // nil: our fast encoder; 0...9: zlib at that level
        var overwrite: Bool
        var maxMemory: Int? = nil  // bytes; nil: MemoryBudget.defaultBytes
        var background = Background.white  // under transparent pixels of JPEG outputs
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

    /// Progress of one file: tiles done of all its tiles, and (when it streams) output rows written.
    struct FileProgress {
        var tilesDone = 0, tilesTotal = 0, rowsDone = 0, rowsTotal = 0
    }

    /// Reads `job.input`, upscales it, writes `job.output` (atomically); fills the report's sizes.
    /// Files stream band by band (bounded memory, see docs/cli.md); stdin, stdout and --tta go
    /// through the whole image at once.
    /// - Throws: `CancellationError` when `isCancelled` turned true; codec and model errors otherwise.
    static func run(_ job: BatchJob, model: Model, settings: Settings, report: inout FileReport,
                    progress: @escaping (FileProgress) -> Void, isCancelled: @escaping () -> Bool) throws {
        if job.input.isStdin || job.output == "-" || settings.tta {
            try runWhole(job, model: model, settings: settings, report: &report, progress: progress, isCancelled: isCancelled)
        } else {
            try runStreaming(job, model: model, settings: settings, report: &report, progress: progress,
                             isCancelled: isCancelled)
        }
    }

    private static func decodeOptions(_ settings: Settings) -> DecodeOptions {
        var decode = DecodeOptions()
        decode.applyOrientation = settings.applyOrientation
        if let maxPixels = settings.maxPixels { decode.maxPixels = maxPixels }
        if let maxMemory = settings.maxMemory { decode.maxMemory = maxMemory }
        return decode
    }

    private static func runOptions(_ settings: Settings, isCancelled: @escaping () -> Bool) -> RunOptions {
        var run = RunOptions()
        if let tile = settings.tileSize { run.tileSize = tile }
        if let threads = settings.threads { run.threads = threads }
        run.tta = settings.tta
        run.isCancelled = isCancelled
        return run
    }

    private static func encodeOptions(_ settings: Settings, format: ImageFormat?, outputPixels: Int) -> EncodeOptions {
        var encode = EncodeOptions.upscaleOutput(pixels: outputPixels)
        encode.format = format
        encode.jpegQuality = settings.jpegQuality
        if let level = settings.pngLevel {
            // zlib at the user's level, with libpng's adaptive filters from level 3 on (the
            // filter search costs about as much as levels 1–2 themselves, and wins little there).
            encode.pngEncoder = .zlib
            encode.pngCompressionLevel = level
            encode.pngFilters = level >= 3 ? .adaptive : .paeth
        }
        encode.background = settings.background
        encode.overwrite = settings.overwrite
        return encode
    }

    private static func createOutputFolder(for path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw BatchError(path: folder, message: "cannot create the output folder; check the path and its permissions.")
            }
        }
    }

    /// open input → open output → upscale band by band → commit. Any failure (a truncated input
    /// found at row 9000 included) drops the output: nothing appears at `job.output`.
    private static func runStreaming(_ job: BatchJob, model: Model, settings: Settings, report: inout FileReport,
                                     progress: @escaping (FileProgress) -> Void,
                                     isCancelled: @escaping () -> Bool) throws {
        let decode = decodeOptions(settings)
        let info = try ImageCodec.probe(path: job.input.path, options: decode)  // a bad input creates no folder
        let format = job.format ?? ImageFormat(path: job.input.path)   // nil: the output's extension
        let encode = encodeOptions(settings, format: format, outputPixels: model.scale * model.scale * info.width * info.height)
        var options = StreamOptions()
        options.run = runOptions(settings, isCancelled: isCancelled)
        try model.memoryEstimate(for: info, wholeImage: false, run: options.run,
                                 format: format ?? ImageFormat(path: job.output) ?? info.format, encode: encode)
            .check(budget: decode.maxMemory, path: job.input.path, size: (info.width, info.height))
        try createOutputFolder(for: job.output)
        let state = ProgressBox()
        options.run.progress = { done, total in progress(state.update { $0.tilesDone = done; $0.tilesTotal = total }) }
        options.rowsProgress = { done, total in progress(state.update { $0.rowsDone = done; $0.rowsTotal = total }) }
        let file = try model.upscaleFile(job.input.path, to: job.output, decode: decode, encode: encode, options: options)
        report.inputWidth = file.inputWidth
        report.inputHeight = file.inputHeight
        report.outputWidth = file.outputWidth
        report.outputHeight = file.outputHeight
        report.notes = file.notes.isEmpty ? nil : file.notes
        let size = (try? FileManager.default.attributesOfItem(atPath: job.output)[.size]) as? NSNumber
        report.bytes = size?.intValue
    }

    /// The whole image at once: stdin, stdout, and --tta (whose flips need every row).
    private static func runWhole(_ job: BatchJob, model: Model, settings: Settings, report: inout FileReport,
                                 progress: @escaping (FileProgress) -> Void, isCancelled: @escaping () -> Bool) throws {
        let decode = decodeOptions(settings)

        // open input: the header, the memory estimate, then the pixels
        let image: RasterImage
        var inputFormat = ImageFormat(path: job.input.path)
        let stdin = job.input.isStdin ? try StandardInput.readAll() : []
        let name = job.input.isStdin ? "stdin" : job.input.path
        let info = job.input.isStdin ? try ImageCodec.probe(bytes: stdin, name: name, options: decode)
                                     : try ImageCodec.probe(path: name, options: decode)
        if job.input.isStdin { inputFormat = info.format }
        let format = job.format ?? inputFormat ?? info.format
        try model.memoryEstimate(for: info, wholeImage: true, run: runOptions(settings, isCancelled: isCancelled), format: format,
                                 encode: encodeOptions(settings, format: format, outputPixels: model.scale * model.scale * info.width * info.height))
            .check(budget: decode.maxMemory, path: name, size: (info.width, info.height))
        if job.input.isStdin {
            image = try ImageCodec.decode(bytes: stdin, name: name, options: decode)
        } else {
            image = try ImageCodec.decode(path: job.input.path, options: decode)
        }
        report.inputWidth = image.width
        report.inputHeight = image.height
        if isCancelled() { throw CancellationError() }

        // run
        var run = runOptions(settings, isCancelled: isCancelled)
        run.progress = { progress(FileProgress(tilesDone: $0, tilesTotal: $1)) }
        let (color, alpha) = try model.upscale(color: image.color, alpha: image.alpha, options: run)
        let result = RasterImage(color: color, alpha: alpha, bitDepth: image.bitDepth,
                                 metadata: image.metadata.upscaled(by: model.scale))
        report.outputWidth = result.width
        report.outputHeight = result.height
        if isCancelled() { throw CancellationError() }

        // write
        let encode = encodeOptions(settings, format: job.format ?? inputFormat, outputPixels: result.width * result.height)
        if job.output == "-" {
            let bytes = try ImageCodec.encode(result, format: encode.format ?? .png, options: encode)
            try StandardOutput.write(bytes)
            report.bytes = bytes.count
        } else {
            try createOutputFolder(for: job.output)
            let notes = try ImageCodec.encode(result, to: job.output, options: encode)
            report.notes = notes.isEmpty ? nil : notes
            let size = (try? FileManager.default.attributesOfItem(atPath: job.output)[.size]) as? NSNumber
            report.bytes = size?.intValue
        }
    }

    /// The progress of one file, updated from the tile workers and the band loop (under a lock).
    private final class ProgressBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = FileProgress()
        func update(_ change: (inout FileProgress) -> Void) -> FileProgress {
            lock.withLock { change(&value); return value }
        }
    }

    /// Removes the temporary files of outputs being written right now.
    static func removeTemporaryFiles() {
        AtomicFile.removeAllInFlight()
    }
}
