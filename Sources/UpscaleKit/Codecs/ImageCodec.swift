// Whole-image decode/encode and the entry points that open band readers and writers.
// decode = open a band reader, read one band of full height, apply EXIF orientation.
// encode = open a band writer, write one band of full height, finish (atomic commit).

/// Where an encoded image is read from: a file, or bytes in memory (stdin's, read whole).
public enum ImageInput {
    case file(String)
    case bytes(ImageBytes, name: String)

    /// The path, or the name given to the bytes: what error messages name.
    public var name: String {
        switch self {
        case .file(let path): return path
        case .bytes(_, let name): return name
        }
    }

    func open() throws -> InputSource {
        switch self {
        case .file(let path): return try InputSource.open(path: path)
        case .bytes(let bytes, let name): return try InputSource.memory(bytes, name: name)
        }
    }
}

public enum ImageCodec {
    // MARK: Reading

    /// A band reader for a PNG, JPEG or WebP file (format from the file's first bytes).
    public static func openReader(path: String, options: DecodeOptions = .init()) throws -> any ImageRowReader {
        try openReader(.file(path), options: options)
    }

    /// A band reader over bytes in memory; `name` is used in error messages.
    public static func openReader(bytes: [UInt8], name: String, options: DecodeOptions = .init()) throws -> any ImageRowReader {
        try openReader(.bytes(ImageBytes(bytes), name: name), options: options)
    }

    /// A band reader for an encoded image from a file or memory (format from its first bytes).
    public static func openReader(_ input: ImageInput, options: DecodeOptions = .init()) throws -> any ImageRowReader {
        try openReader(source: input.open(), options: options, headerOnly: false)
    }

    static func openReader(source: InputSource, options: DecodeOptions, headerOnly: Bool) throws -> any ImageRowReader {
        switch try format(of: source) {
        case .png: return try PNGRowReader(source: source, options: options)
        case .jpeg: return try JPEGRowReader(source: source, options: options, headerOnly: headerOnly)
        case .webp: return try WebPRowReader(source: source, options: options, headerOnly: headerOnly)
        }
    }

    /// The format a file's first 12 bytes announce; throws, as reading it would, when they announce
    /// none of PNG, JPEG and WebP (or the path is a folder, or the file empty). Decodes nothing.
    public static func sniffFormat(path: String) throws -> ImageFormat {
        try format(of: InputSource.open(path: path))
    }

    private static func format(of source: InputSource) throws -> ImageFormat {
        guard let format = ImageFormat.sniff(source.head) else {
            throw ImageIOError(path: source.name, message: source.head.count < 3
                ? "file too short to be an image (\(source.head.count) bytes)"
                : "not a PNG, JPEG or WebP file (unrecognised signature)")
        }
        return format
    }

    /// Reads the header only (no pixel allocation): size as decoded with `options`
    /// (orientation applied), channels, whether bands can stream and what is held whole.
    public static func probe(path: String, options: DecodeOptions = .init()) throws -> ImageInfo {
        try probe(.file(path), options: options)
    }

    /// `probe` of an image in memory; `name` is used in error messages.
    public static func probe(bytes: [UInt8], name: String, options: DecodeOptions = .init()) throws -> ImageInfo {
        try probe(.bytes(ImageBytes(bytes), name: name), options: options)
    }

    /// `probe` of an image in a file or in memory.
    public static func probe(_ input: ImageInput, options: DecodeOptions = .init()) throws -> ImageInfo {
        try probe(source: input.open(), options: options)
    }

    private static func probe(source: InputSource, options: DecodeOptions) throws -> ImageInfo {
        let reader = try openReader(source: source, options: options, headerOnly: true)
        let orientation = options.applyOrientation ? reader.orientation : 1
        let swaps = orientation >= 5
        return ImageInfo(format: reader.format,
                         width: swaps ? reader.height : reader.width,
                         height: swaps ? reader.width : reader.height,
                         channels: reader.colorChannels + (reader.hasAlpha ? 1 : 0),
                         streamable: reader.streamable && orientation <= 2,
                         bitDepth: reader.bitDepth,
                         orientation: reader.orientation,
                         wholeImageBytes: reader.wholeImageBytes + OrientedRowReader.groupBytes(
                             reader, groupRows: OrientedRowReader.groupRows(reader, orientation: orientation,
                                                                            budget: options.maxMemory,
                                                                            groupBytes: options.orientationGroupBytes),
                             orientation: orientation))
    }

    /// A band reader for the streaming path: rows as displayed. The file's own reader when its rows
    /// can be used as stored, else (an EXIF orientation 2–8 to apply) an `OrientedRowReader` over
    /// it: orientation 2 still streams, 3–8 keep 8-bit samples of the file, within
    /// `options.maxMemory` (reading the file more than once when the whole image does not fit).
    /// Interlaced PNG and progressive JPEG readers decode the whole image at their first band
    /// themselves; their bands, and so the output, still stream.
    public static func openStreamReader(path: String, options: DecodeOptions = .init()) throws -> any ImageRowReader {
        try openStreamReader(.file(path), options: options)
    }

    /// `openStreamReader` for an image in a file or in memory.
    public static func openStreamReader(_ input: ImageInput, options: DecodeOptions = .init()) throws -> any ImageRowReader {
        try oriented({ try openReader(input, options: options) }, path: input.name, options: options, budget: options.maxMemory)
    }

    /// The reader `open` makes, turned as its EXIF orientation says (when `options` applies it).
    private static func oriented(_ open: @escaping () throws -> any ImageRowReader, path: String,
                                 options: DecodeOptions, budget: Int?) throws -> any ImageRowReader {
        let reader = try open()
        guard options.applyOrientation && reader.orientation != 1 else { return reader }
        return try OrientedRowReader(reader, orientation: reader.orientation, path: path, budget: budget,
                                     groupBytes: budget == nil ? nil : options.orientationGroupBytes, reopen: open)
    }

    /// Decodes a whole PNG, JPEG or WebP file.
    public static func decode(path: String, options: DecodeOptions = .init()) throws -> RasterImage {
        try decodeAll({ try openReader(path: path, options: options) }, path: path, options: options)
    }

    /// Decodes a whole PNG, JPEG or WebP from memory; `name` is used in error messages.
    public static func decode(bytes: [UInt8], name: String, options: DecodeOptions = .init()) throws -> RasterImage {
        let input = ImageInput.bytes(ImageBytes(bytes), name: name)
        return try decodeAll({ try openReader(input, options: options) }, path: name, options: options)
    }

    /// The whole image as one band of the oriented reader (one group: the floats hold it all
    /// anyway): its float planes (4 bytes per sample) and the samples they are read from are
    /// checked against `options.maxMemory` first.
    private static func decodeAll(_ open: @escaping () throws -> any ImageRowReader, path: String,
                                  options: DecodeOptions) throws -> RasterImage {
        let reader = try oriented(open, path: path, options: options, budget: nil)
        let samples = reader.width * reader.height * (reader.colorChannels + (reader.hasAlpha ? 1 : 0))
        try MemoryBudget.check(reader.wholeImageBytes + samples * (4 + reader.bitDepth / 8), budget: options.maxMemory,
                               path: path, what: "decoding this \(reader.width)×\(reader.height) image whole")
        guard let band = try reader.readBand(maxRows: reader.height) else {
            preconditionFailure("a reader with height > 0 returned no band")
        }
        _ = try reader.readBand(maxRows: 1)  // nil; the tail was checked with the band
        return RasterImage(color: band.color, alpha: band.alpha, bitDepth: reader.bitDepth, metadata: reader.metadata)
    }

    // MARK: Writing

    /// The format for an output path: `options.format`, else the extension.
    public static func outputFormat(path: String, options: EncodeOptions) throws -> ImageFormat {
        if let format = options.format { return format }
        guard let format = ImageFormat(path: path) else {
            throw ImageIOError(path: path, message: "cannot tell the output format from the extension; use .png, .jpg, .jpeg or .webp",
                               side: .output)
        }
        return format
    }

    /// A band writer for `path` (format from `options.format` or the extension). Nothing
    /// appears at `path` until `finish()`; refuses an existing file unless `options.overwrite`.
    /// For JPEG, an image with alpha is composited onto `options.background` (noted in `finish()`'s
    /// result); a gray one becomes RGB when the background is not gray.
    public static func openWriter(path: String, width: Int, height: Int, colorChannels: Int, hasAlpha: Bool,
                                  bitDepth: Int = 8, metadata: ImageMetadata = .init(),
                                  options: EncodeOptions = .init()) throws -> any ImageRowWriter {
        let format = try outputFormat(path: path, options: options)
        return try openWriter(sink: AtomicWrite(path: path, overwrite: options.overwrite), format: format,
                              width: width, height: height, colorChannels: colorChannels, hasAlpha: hasAlpha,
                              bitDepth: bitDepth, metadata: metadata, options: options)
    }

    /// A band writer whose bytes are spooled to a temporary file and handed to `consume` in order,
    /// 1 MiB at a time, when `finish()` has completed the image (nothing reaches `consume` when
    /// the image is not complete): an image for stdout. `name` is used in error messages.
    public static func openSpooledWriter(name: String, format: ImageFormat, width: Int, height: Int, colorChannels: Int,
                                         hasAlpha: Bool, bitDepth: Int = 8, metadata: ImageMetadata = .init(),
                                         options: EncodeOptions = .init(),
                                         consume: @escaping (UnsafeRawBufferPointer) throws -> Void) throws -> any ImageRowWriter {
        let spool = try SpooledOutput(name: name)
        let writer = try openWriter(sink: spool, format: format, width: width, height: height, colorChannels: colorChannels,
                                    hasAlpha: hasAlpha, bitDepth: bitDepth, metadata: metadata, options: options)
        return DrainingWriter(writer, spool: spool, consume: consume)
    }

    static func openWriter(sink: OutputSink, format: ImageFormat, width: Int, height: Int, colorChannels: Int,
                           hasAlpha: Bool, bitDepth: Int, metadata: ImageMetadata,
                           options: EncodeOptions) throws -> any ImageRowWriter {
        do {
            return try makeWriter(sink: sink, format: format, width: width, height: height, colorChannels: colorChannels,
                                  hasAlpha: hasAlpha, bitDepth: bitDepth, metadata: metadata, options: options)
        } catch let error as ImageIOError {
            throw error.on(.output)  // a writer's setup failed (an option out of range, a header): the output's
        }
    }

    private static func makeWriter(sink: OutputSink, format: ImageFormat, width: Int, height: Int, colorChannels: Int,
                                   hasAlpha: Bool, bitDepth: Int, metadata: ImageMetadata,
                                   options: EncodeOptions) throws -> any ImageRowWriter {
        switch format {
        case .png:
            return try PNGRowWriter(sink: sink, width: width, height: height, colorChannels: colorChannels,
                                    hasAlpha: hasAlpha, bitDepth: options.pngBitDepth ?? bitDepth, metadata: metadata,
                                    encoder: options.pngEncoder, compressionLevel: options.pngCompressionLevel,
                                    filters: options.pngFilters, threads: options.threads)
        case .jpeg:
            var notes: [String] = []
            if hasAlpha { notes.append("alpha composited onto \(options.background): JPEG has no alpha channel") }
            if bitDepth == 16 { notes.append("16-bit samples reduced to 8 bits: JPEG is 8-bit") }
            return try JPEGRowWriter(sink: sink, width: width, height: height, colorChannels: colorChannels,
                                     background: hasAlpha ? options.background : nil,
                                     metadata: metadata, options: options, notes: notes)
        case .webp:
            return try WebPRowWriter(sink: sink, width: width, height: height, colorChannels: colorChannels,
                                     hasAlpha: hasAlpha, bitDepth: bitDepth, metadata: metadata, options: options)
        }
    }

    /// Writes a whole image to `path` atomically; returns notes such as
    /// "alpha composited onto #ffffff: JPEG has no alpha channel".
    @discardableResult
    public static func encode(_ image: RasterImage, to path: String, options: EncodeOptions = .init()) throws -> [WriterNote] {
        try check(image, name: path)
        let writer = try openWriter(path: path, width: image.width, height: image.height,
                                    colorChannels: image.channels, hasAlpha: image.alpha != nil,
                                    bitDepth: image.bitDepth, metadata: image.metadata, options: options)
        return try writeAll(image, to: writer)
    }

    /// Encodes a whole image to bytes in memory.
    public static func encode(_ image: RasterImage, format: ImageFormat, options: EncodeOptions = .init()) throws -> [UInt8] {
        let name = "<\(format.rawValue) in memory>"
        try check(image, name: name)
        let sink = try MemoryOutput(name: name)
        let writer = try openWriter(sink: sink, format: format, width: image.width, height: image.height,
                                    colorChannels: image.channels, hasAlpha: image.alpha != nil,
                                    bitDepth: image.bitDepth, metadata: image.metadata, options: options)
        _ = try writeAll(image, to: writer)
        return sink.bytes
    }

    private static func writeAll(_ image: RasterImage, to writer: any ImageRowWriter) throws -> [WriterNote] {
        try writer.commit { try writer.write(ImageBand(color: image.color, alpha: image.alpha)) }
    }

    private static func check(_ image: RasterImage, name: String) throws {
        let shape = image.color.shape
        guard shape.count == 4, shape[0] == 1, shape[1] == 1 || shape[1] == 3, shape[2] > 0, shape[3] > 0 else {
            throw ImageIOError(path: name, message: "image tensor has shape \(shape), expected (1, 1 or 3, H, W)", side: .output)
        }
        if let alpha = image.alpha, alpha.shape != [1, 1, shape[2], shape[3]] {
            throw ImageIOError(path: name, message: "alpha has shape \(alpha.shape), expected (1, 1, \(shape[2]), \(shape[3]))", side: .output)
        }
    }
}

/// A writer into a spool that, once the image is complete, hands the spool's bytes on.
private final class DrainingWriter: ImageRowWriter {
    private let writer: any ImageRowWriter
    private let spool: SpooledOutput
    private let consume: (UnsafeRawBufferPointer) throws -> Void

    init(_ writer: any ImageRowWriter, spool: SpooledOutput, consume: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.writer = writer
        self.spool = spool
        self.consume = consume
    }

    var rowsWritten: Int { writer.rowsWritten }
    func write(_ band: ImageBand) throws { try writer.write(band) }
    // Packed rows pass through too: without them stdout's image went the float path (a zeroed
    // float band per band, then the writer's own packing), slower than a file's.
    var packedLayout: PackedRowLayout? { writer.packedLayout }
    func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws { try writer.writePacked(bytes, rows: rows, threads: threads) }
    func abort() { writer.abort() }

    func finish() throws -> [WriterNote] {
        let notes = try writer.finish()   // commits the spool
        try spool.drain(into: consume)
        return notes
    }
}
