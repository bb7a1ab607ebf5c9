// Open → upscale → commit: the one way an image reader becomes a committed output. The output is
// opened for the reader's samples at the model's scale (or at a size asked for, resampled from the
// model's output by a Lanczos-3 writer), the upscale loop runs band by band, and the output is
// committed. Any error on the way (a truncated input found at row 9000, a full disk, a cancel)
// drops the output: nothing appears at the output path, and its temporary file is removed.
// `FileJob.run` (the CLI's path: budget, stdin, stdout) and `Model.upscaleFile` (a file to a file)
// both end here.

/// What a streamed file was.
public struct StreamedFile: Sendable {
    public var inputWidth: Int, inputHeight: Int
    public var outputWidth: Int, outputHeight: Int
    /// The writer's notes (alpha composited for JPEG, library warnings).
    public var notes: [WriterNote]
}

/// What an output is opened for: its size, the input's samples, and the metadata it carries.
struct OutputShape {
    let width: Int, height: Int
    let colorChannels: Int
    let hasAlpha: Bool
    let bitDepth: Int
    let metadata: ImageMetadata
}

extension Model {
    /// Upscales the image file `input` into `output` (format from `encode.format` or the extension),
    /// band by band. The output's bit depth, metadata and alpha follow the input (the pixel
    /// density multiplied by the scale: `ImageMetadata.upscaled(by:)`).
    /// - Throws: `ImageIOError` naming the file for codec problems, `CancellationError`, `ModelError`.
    public func upscaleFile(_ input: String, to output: String, decode: DecodeOptions = .init(),
                            encode: EncodeOptions = .init(), options: StreamOptions = .init()) throws -> StreamedFile {
        let reader = try ImageCodec.openStreamReader(path: input, options: decode)
        return try upscale(reader, size: nil, options: options) { shape in
            try ImageCodec.openWriter(path: output, width: shape.width, height: shape.height,
                                      colorChannels: shape.colorChannels, hasAlpha: shape.hasAlpha,
                                      bitDepth: shape.bitDepth, metadata: shape.metadata, options: encode)
        }
    }

    /// Opens the output of `reader`'s image with `open`, runs the upscale loop into it, commits it.
    /// - Parameter size: the output size; nil: the model's scale. Any other size is resampled from
    ///   the model's output (Lanczos-3, on `options.run.threads` workers).
    func upscale(_ reader: any ImageRowReader, size: (width: Int, height: Int)?, options: StreamOptions,
                 open: (OutputShape) throws -> any ImageRowWriter) throws -> StreamedFile {
        let (modelW, modelH) = (scale * reader.width, scale * reader.height)
        let (outW, outH) = size ?? (modelW, modelH)
        let resized = (outW, outH) != (modelW, modelH)
        let metadata = resized ? reader.metadata.resized(fromWidth: reader.width, toWidth: outW)
                               : reader.metadata.upscaled(by: scale)
        var writer = try open(OutputShape(width: outW, height: outH, colorChannels: reader.colorChannels,
                                          hasAlpha: reader.hasAlpha, bitDepth: reader.bitDepth, metadata: metadata))
        if resized {
            writer = LanczosRowWriter(writer, sourceWidth: modelW, sourceHeight: modelH, width: outW, height: outH,
                                      colorChannels: reader.colorChannels, hasAlpha: reader.hasAlpha,
                                      threads: options.run.threads)
        }
        let notes = try writer.commit { try upscale(from: reader, to: writer, options: options) }
        return StreamedFile(inputWidth: reader.width, inputHeight: reader.height, outputWidth: outW,
                            outputHeight: outH, notes: notes)
    }
}
