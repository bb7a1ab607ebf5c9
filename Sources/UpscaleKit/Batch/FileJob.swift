// One file of a run: probe the input → check the memory estimate → open the output → the upscale
// loop → commit. Every input (a file, stdin's bytes) and every output (a file, stdout) goes
// through the same steps; only the endpoints differ:
//
//   input    a file: read band by band from disk; stdin: its bytes, read by the caller through
//            the image's end and no further, within the memory budget, decoded band by band
//            from memory
//   output   a file: written to a temporary file beside it and renamed over it at the end
//            (AtomicFile); stdout: spooled to a temporary file and handed to the caller's
//            `standardOutput` once complete, so stdout gets all of an image or nothing
//
// Any failure on the way (a truncated input found at row 9000, a full disk, a cancel) drops the
// output: nothing appears at the output path, nothing reaches stdout.

import Foundation

/// How every file of a run is upscaled: one value for the whole batch, turned into the codecs'
/// and the model's options here and nowhere else.
public struct UpscaleSettings: Sendable {
    /// Input pixels per tile side; nil: `RunOptions`' default.
    public var tileSize: Int? = nil
    /// Worker threads of every parallel loop.
    public var threads: Int
    /// Test-time augmentation (8 flips averaged; reads the whole image first).
    public var tta = false
    /// Apply a JPEG's EXIF orientation before upscaling.
    public var applyOrientation = true
    /// Inputs with more pixels are refused; nil: `DecodeOptions`' default.
    public var maxPixels: Int? = nil
    /// Bytes one file may take; nil: the default (`MemoryBudget.limit`). Never more than what the
    /// address-space limit leaves.
    public var maxMemory: Int? = nil
    public var jpegQuality = 95
    /// WebP outputs: lossy at this quality (cwebp's default 75), or lossless.
    public var webpQuality = WebPRowWriter.defaultQuality
    public var webpLossless = false
    /// The output size asked for (resampled from the model's output); nil: the model's scale.
    public var outputSize: OutputSize? = nil
    /// nil: our fast deflate encoder; 0...9: zlib at that level.
    public var pngLevel: Int? = nil
    /// Replace existing outputs.
    public var overwrite = false
    /// Under transparent pixels of JPEG outputs.
    public var background = Background.white

    public init(threads: Int) {
        self.threads = threads
    }

    /// How inputs are decoded under the budget measured now (public: the CLI probes inputs to
    /// choose a model).
    public var decodeOptions: DecodeOptions { decode(budget: MemoryBudget.limit(option: maxMemory, threads: threads)) }

    /// The decode options of a file whose budget is `budget`.
    func decode(budget: MemoryBudget.Limit) -> DecodeOptions {
        var decode = DecodeOptions()
        decode.applyOrientation = applyOrientation
        if let maxPixels { decode.maxPixels = maxPixels }
        decode.maxMemory = budget.bytes
        return decode
    }

    /// The run options for `model`: `tileSize`, else the model's default tile.
    func run(for model: Model, isCancelled: @escaping () -> Bool) -> RunOptions {
        var run = RunOptions()
        run.tileSize = tileSize ?? model.defaultTileSize
        run.threads = threads
        run.tta = tta
        run.isCancelled = isCancelled
        return run
    }

    func encode(format: ImageFormat?, outputPixels: Int) -> EncodeOptions {
        var encode = EncodeOptions.upscaleOutput(pixels: outputPixels)
        encode.format = format
        encode.jpegQuality = jpegQuality
        encode.webpQuality = webpQuality
        encode.webpLossless = webpLossless
        encode.threads = threads
        if let pngLevel {
            // zlib at the user's level, with libpng's adaptive filters from level 3 on (the
            // filter search costs about as much as levels 1–2 themselves, and wins little there).
            encode.pngEncoder = .zlib
            encode.pngCompressionLevel = pngLevel
            encode.pngFilters = pngLevel >= 3 ? .adaptive : .paeth
        }
        encode.background = background
        encode.overwrite = overwrite
        return encode
    }
}

/// Progress of one file: tiles done of all its tiles, and output rows written.
public struct FileProgress: Sendable {
    public var tilesDone = 0, tilesTotal = 0, rowsDone = 0, rowsTotal = 0
    public init() {}
}

/// What one file's upscale was.
public struct FileResult: Sendable {
    public var inputWidth: Int, inputHeight: Int
    public var outputWidth: Int, outputHeight: Int
    /// Bytes written (the file's size, or what went to stdout).
    public var bytes: Int?
    /// The writer's notes (alpha composited for JPEG, library warnings).
    public var notes: [WriterNote]
}

/// One planned job (`BatchJob`) run with a model and the run's settings.
public struct FileJob {
    public let job: BatchJob
    public let model: Model
    public let settings: UpscaleSettings

    public init(_ job: BatchJob, model: Model, settings: UpscaleSettings) {
        self.job = job
        self.model = model
        self.settings = settings
    }

    /// Upscales `job.input` into `job.output` (`-`: stdout).
    /// - Parameters:
    ///   - standardInput: stdin's image, read when the input is `-`, in at most the bytes given
    ///     (the memory budget).
    ///   - standardOutput: receives the encoded image, in order, when the output is `-`.
    /// - Throws: `ImageIOError` and `ModelError` naming the file, the callbacks' errors,
    ///   `CancellationError` when `isCancelled` turned true.
    public func run(standardInput: (_ limit: Int) throws -> ImageBytes,
                    standardOutput: @escaping (UnsafeRawBufferPointer) throws -> Void,
                    progress: @escaping (FileProgress) -> Void,
                    isCancelled: @escaping () -> Bool) throws -> FileResult {
        // probe: a bad input creates no folder and no output
        let budget = MemoryBudget.limit(option: settings.maxMemory, threads: settings.threads)  // measured now
        var decode = settings.decode(budget: budget)
        let stdinBytes = job.input.isStdin ? try standardInput(decode.maxMemory) : nil
        let input: ImageInput = stdinBytes.map { .bytes($0, name: "stdin") } ?? .file(job.input.path)
        var info = try ImageCodec.probe(input, options: decode)
        // The format: -f, else the input's (stdin's by its bytes, a file's by its extension),
        // else (nil) the output's extension.
        let format = job.format ?? (job.input.isStdin ? info.format : ImageFormat(path: job.input.path))
        let (modelW, modelH) = (model.scale * info.width, model.scale * info.height)
        let (outW, outH) = settings.outputSize?.target(width: info.width, height: info.height) ?? (modelW, modelH)
        let resized = (outW, outH) != (modelW, modelH)
        let encode = settings.encode(format: format, outputPixels: outW * outH)
        var stream = StreamOptions()
        stream.run = settings.run(for: model, isCancelled: isCancelled)
        let outputFormat = format ?? ImageFormat(path: job.output) ?? info.format
        // --max-pixels limits inputs, and the targets of size requests too.
        try OutputSize.check(target: (outW, outH), scale: model.scale, input: (info.width, info.height), format: outputFormat,
                             maxPixels: settings.outputSize == nil ? Int.max : decode.maxPixels, path: input.name)
        let target = resized ? (outW, outH) : nil
        var estimate = model.memoryEstimate(for: info, run: stream.run, format: outputFormat, encode: encode, output: target)
        if settings.tileSize == nil, estimate.total > decode.maxMemory, stream.run.tileSize > RunOptions.standardTileSize {
            // A deep stack's larger default tile is for speed; within the budget, memory comes first.
            stream.run.tileSize = RunOptions.standardTileSize
            estimate = model.memoryEstimate(for: info, run: stream.run, format: outputFormat, encode: encode, output: target)
        }
        if estimate.total > decode.maxMemory, decode.applyOrientation, (3...8).contains(info.orientation) {
            try fitRotatedGroups(input, info: &info, decode: &decode, estimate: &estimate, run: stream.run,
                                 format: outputFormat, encode: encode)
        }
        estimate.decoder += stdinBytes?.count ?? 0  // held until the file is done
        try estimate.check(budget: budget, path: input.name, size: (info.width, info.height))

        // open the input's band reader; open the output, upscale, commit
        let reader = try ImageCodec.openStreamReader(input, options: decode)
        let state = Locked(FileProgress())  // updated from the tile workers and the band loop
        stream.run.progress = { done, total in
            progress(state.withLock { $0.tilesDone = done; $0.tilesTotal = total; return $0 })
        }
        stream.rowsProgress = { done, total in
            progress(state.withLock { $0.rowsDone = done; $0.rowsTotal = total; return $0 })
        }
        let streamedBytes = Locked(0)  // what went to stdout
        let done = try model.upscale(reader, size: target, options: stream) { shape in
            try openOutput(shape, format: format, encode: encode, standardOutput: standardOutput, counted: streamedBytes)
        }
        let bytes = job.output == "-" ? streamedBytes.withLock { $0 } : FileSystem.size(job.output)
        return FileResult(inputWidth: done.inputWidth, inputHeight: done.inputHeight, outputWidth: done.outputWidth,
                          outputHeight: done.outputHeight, bytes: bytes, notes: done.notes)
    }

    /// A rotated JPEG's samples are read in groups of displayed rows, the file once per group. The
    /// default plan sizes the group from the budget alone; here the rest of the run is known, so
    /// this takes the largest group that fits beside it (the fewest reads of the file), down to one
    /// row, updating `info`, `decode` and `estimate`; when even one row does not fit, `estimate` is
    /// the least plan's, for the refusal to say.
    private func fitRotatedGroups(_ input: ImageInput, info: inout ImageInfo, decode: inout DecodeOptions,
                                  estimate: inout MemoryEstimate, run: RunOptions, format: ImageFormat,
                                  encode: EncodeOptions) throws {
        let rowBytes = info.channels * info.width  // one displayed row, 8-bit samples
        var oneRow = decode
        oneRow.orientationGroupBytes = rowBytes
        let smallest = model.memoryEstimate(for: try ImageCodec.probe(input, options: oneRow), run: run,
                                            format: format, encode: encode)
        let rest = smallest.total - rowBytes
        if rest + rowBytes <= decode.maxMemory {
            decode.orientationGroupBytes = decode.maxMemory - rest
            info = try ImageCodec.probe(input, options: decode)
            estimate = model.memoryEstimate(for: info, run: run, format: format, encode: encode)
        } else {
            estimate = smallest
        }
    }

    /// The job's output opened for `shape`: stdout's spool (handed to `standardOutput` once the
    /// image is complete, its bytes added to `counted`), or the file, its folder created first.
    private func openOutput(_ shape: OutputShape, format: ImageFormat?, encode: EncodeOptions,
                            standardOutput: @escaping (UnsafeRawBufferPointer) throws -> Void,
                            counted: Locked<Int>) throws -> any ImageRowWriter {
        guard job.output != "-" else {
            return try ImageCodec.openSpooledWriter(
                name: "stdout", format: format ?? .png, width: shape.width, height: shape.height,
                colorChannels: shape.colorChannels, hasAlpha: shape.hasAlpha, bitDepth: shape.bitDepth,
                metadata: shape.metadata, options: encode) { bytes in
                    do {
                        try standardOutput(bytes)
                    } catch let error as ImageIOError {
                        throw error.on(.output)
                    } catch {
                        throw ImageIOError(path: "stdout", message: "\(error)", side: .output)
                    }
                    counted.withLock { $0 += bytes.count }
                }
        }
        try FileJob.createFolder(for: job.output)
        return try ImageCodec.openWriter(path: job.output, width: shape.width, height: shape.height,
                                         colorChannels: shape.colorChannels, hasAlpha: shape.hasAlpha,
                                         bitDepth: shape.bitDepth, metadata: shape.metadata, options: encode)
    }

    /// Creates the folder an output goes into, when missing.
    static func createFolder(for path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileSystem.exists(folder) {
            do {
                try FileSystem.createFolders(folder)
            } catch {
                throw BatchError(path: folder, message: "cannot create the output folder; check the path and its permissions.", kind: .output)
            }
        }
    }
}
