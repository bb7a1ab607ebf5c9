// File to file, streaming: open the input's band reader (ImageCodec.openStreamReader), open an
// atomic band writer for the output, run the bands, commit. Any error on the way (a truncated
// input found at row 9000, a full disk, a cancel) drops the output: nothing appears at the output
// path, and its temporary file is removed.

/// What a streamed file was.
public struct StreamedFile: Sendable {
    public var inputWidth: Int, inputHeight: Int
    public var outputWidth: Int, outputHeight: Int
    /// The writer's notes (alpha composited for JPEG, library warnings).
    public var notes: [String]
}

extension Model {
    /// Upscales the image file `input` into `output` (format from `encode.format` or the extension),
    /// band by band. The output's bit depth, metadata and alpha follow the input (the pixel
    /// density multiplied by the scale: `ImageMetadata.upscaled(by:)`).
    /// - Throws: `ImageIOError` naming the file for codec problems, `CancellationError`, `ModelError`.
    public func upscaleFile(_ input: String, to output: String, decode: DecodeOptions = .init(),
                            encode: EncodeOptions = .init(), options: StreamOptions = .init()) throws -> StreamedFile {
        let reader = try ImageCodec.openStreamReader(path: input, options: decode)
        let (outW, outH) = (scale * reader.width, scale * reader.height)
        let writer = try ImageCodec.openWriter(path: output, width: outW, height: outH,
                                               colorChannels: reader.colorChannels, hasAlpha: reader.hasAlpha,
                                               bitDepth: reader.bitDepth, metadata: reader.metadata.upscaled(by: scale),
                                               options: encode)
        let notes = try upscaleAndCommit(from: reader, to: writer, options: options)
        return StreamedFile(inputWidth: reader.width, inputHeight: reader.height, outputWidth: outW,
                            outputHeight: outH, notes: notes)
    }

    /// The upscale loop into `writer`, then `writer.finish()` (the output appears); on any error
    /// `writer.abort()` (nothing appears) and the error is rethrown.
    /// - Returns: the writer's notes.
    func upscaleAndCommit(from source: any BandSource, to writer: any ImageRowWriter,
                          options: StreamOptions) throws -> [String] {
        do {
            try upscale(from: source, to: writer, options: options)
            return try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
    }
}
