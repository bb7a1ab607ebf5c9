// Row (band) access: the shared interface of the PNG and JPEG band readers and writers.
// Whole-image decode and encode are one band of full height through the same code.

/// Reads an image top to bottom in bands of rows. Orientation is not applied here (see
/// `orientation`); `ImageCodec.decode` applies it to whole images.
public protocol ImageRowReader: BandSource {
    var format: ImageFormat { get }
    // width, height: the stored size, before any EXIF orientation (BandSource).
    /// 8 or 16.
    var bitDepth: Int { get }
    var metadata: ImageMetadata { get }
    /// EXIF orientation 1...8 (1 when absent or for PNG).
    var orientation: Int { get }
    /// Bands are decoded incrementally with bounded memory. False for interlaced PNG (the
    /// whole image is decoded at the first band) and progressive JPEG (libjpeg buffers all
    /// coefficients).
    var streamable: Bool { get }
    /// Bytes the reader itself holds for the whole image at once (an Adam7 PNG's rows, a
    /// progressive JPEG's coefficients, a rotated JPEG's samples); 0 when it streams.
    var wholeImageBytes: Int { get }
    var rowsRead: Int { get }
    /// Library warnings so far, "; "-joined (empty when none): data libpng/libjpeg tolerated.
    var warnings: String { get }
}

extension ImageRowReader {
    /// How many rows the next band of at most `maxRows` holds; nil when every row has been read.
    func nextBandRows(maxRows: Int) -> Int? {
        precondition(maxRows > 0, "readBand needs maxRows > 0")
        guard rowsRead < height else { return nil }
        return min(maxRows, height - rowsRead)
    }
}

/// Rows already packed as a writer's samples: pixels interleaved, each the colour channels then
/// alpha (when `withAlpha`), `sampleBits` 8 or 16 (big-endian): what `PixelPacking.interleaveRow`
/// makes.
public struct PackedRowLayout: Sendable, Equatable {
    public var sampleBits: Int
    public var colorChannels: Int
    public var withAlpha: Bool

    public init(sampleBits: Int, colorChannels: Int, withAlpha: Bool) {
        self.sampleBits = sampleBits
        self.colorChannels = colorChannels
        self.withAlpha = withAlpha
    }

    public func rowBytes(width: Int) -> Int { width * (colorChannels + (withAlpha ? 1 : 0)) * sampleBits / 8 }
}

/// Something a writer says about the file it wrote, with its kind for callers that treat them
/// differently (the CLI shows library warnings only with --verbose); `text` is for people.
public struct WriterNote: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The output is not what was asked for in some way: alpha composited onto a background,
        /// 16-bit samples written as 8, metadata left out.
        case changedOutput
        /// The codec library's own warning, the file written anyway ("libpng: iCCP: known
        /// incorrect sRGB profile").
        case libraryWarning
    }

    public var kind: Kind
    public var text: String
    public var description: String { text }

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    /// A note that the output was changed (`.changedOutput`).
    public static func changed(_ text: String) -> WriterNote { WriterNote(.changedOutput, text) }
}

/// Writes an image top to bottom in bands of rows; the file appears (atomically) at `finish()`.
public protocol ImageRowWriter: AnyObject {
    var rowsWritten: Int { get }
    /// A band (1, C, rows, W) (+ alpha (1, 1, rows, W) when the writer was opened with alpha).
    func write(_ band: ImageBand) throws
    /// The packed rows `writePacked` takes, or nil when the writer takes float bands only.
    var packedLayout: PackedRowLayout? { get }
    /// `rows` rows packed as `packedLayout` says (`rows · rowBytes` bytes): the same file as
    /// `write` of the float band they were packed from. `threads`: how many threads the call may
    /// keep busy (1 while the upscale loop's workers compute beside it); the bytes do not depend on it.
    func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws
    /// Completes the file and commits it; returns notes (dropped alpha, library warnings).
    func finish() throws -> [WriterNote]
    /// Drops the output: the temporary file is removed, the target is untouched.
    func abort()
}

extension ImageRowWriter {
    /// Commit or abort, the one way every output ends: `rows` writes the image, then `finish()`
    /// commits it (the output appears); on any error `abort()` drops it (nothing appears) and the
    /// error is rethrown.
    /// - Returns: `finish()`'s notes.
    func commit(after rows: () throws -> Void) throws -> [WriterNote] {
        do {
            try rows()
            return try finish()
        } catch {
            abort()
            throw error
        }
    }

    public var packedLayout: PackedRowLayout? { nil }
    public func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws {
        preconditionFailure("\(Self.self) takes float bands only (packedLayout is nil)")
    }
}

/// What the upscale loop hands its writer: a float band, or rows packed as the writer's samples.
enum OutputRows {
    case floats(ImageBand)
    case packed([UInt8], rows: Int, layout: PackedRowLayout)
}

/// Pixel-count and per-side limits, checked from the header before any allocation.
enum ImageLimits {
    static let maxSide = 65535

    static func check(width: Int, height: Int, options: DecodeOptions, path: String) throws {
        guard width > 0 && height > 0 else {
            throw ImageIOError(path: path, message: "image has no pixels (\(width)×\(height))")
        }
        guard width <= maxSide && height <= maxSide else {
            throw ImageIOError(path: path,
                               message: "image is \(width)×\(height); each side must be at most \(maxSide) pixels")
        }
        let pixels = width * height
        guard pixels <= options.maxPixels else {
            throw ImageIOError(path: path, message: "image is \(width)×\(height) = \(pixels) pixels, over the "
                + "budget of \(options.maxPixels) pixels; raise the pixel limit to decode it", kind: .overPixelLimit)
        }
    }
}

/// Band geometry checks shared by the writers.
enum BandCheck {
    static func validate(_ band: ImageBand, width: Int, colorChannels: Int, alphaNeeded: Bool,
                         rowsLeft: Int, path: String) throws {
        let shape = band.color.shape
        guard shape.count == 4, shape[0] == 1, shape[1] == colorChannels, shape[3] == width else {
            throw ImageIOError(path: path, message: "band has shape \(shape), expected (1, \(colorChannels), rows, \(width))", side: .output)
        }
        guard shape[2] <= rowsLeft else {
            throw ImageIOError(path: path, message: "band of \(shape[2]) rows overruns the image (\(rowsLeft) rows left)", side: .output)
        }
        if alphaNeeded, let alpha = band.alpha {
            guard alpha.shape == [1, 1, shape[2], width] else {
                throw ImageIOError(path: path, message: "alpha band has shape \(alpha.shape), expected (1, 1, \(shape[2]), \(width))", side: .output)
            }
        }
    }
}
