// The value types of image I/O: formats, decoded rasters, options and errors.

/// An image file format we read and write.
public enum ImageFormat: String, Sendable {
    case png, jpeg

    /// The format a file extension names (`png`, `jpg`, `jpeg`, any case), or nil.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// The format of a path's extension, or nil.
    public init?(path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        self.init(pathExtension: String(name[name.index(after: dot)...]))
    }

    /// The format the first bytes of a file announce (PNG signature, JPEG SOI marker), or nil.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 8 && Array(bytes[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF { return .jpeg }
        return nil
    }
}

/// What a file says besides its pixels, carried from input to output (docs/cli.md, "Metadata").
public struct ImageMetadata: Sendable, Equatable {
    /// The embedded ICC profile, byte for byte (PNG iCCP, JPEG APP2).
    public var iccProfile: [UInt8]?
    /// The profile's name from a PNG iCCP chunk.
    public var iccName: String?
    /// PNG sRGB chunk's rendering intent (0...3).
    public var srgbIntent: Int?
    /// PNG gAMA chunk's file gamma (e.g. 0.45455).
    public var gamma: Double?
    /// EXIF as TIFF bytes ("II*\0" or "MM\0*" first), as a PNG eXIf chunk holds it; a JPEG's APP1
    /// payload without its "Exif\0\0" prefix.
    public var exif: [UInt8]?
    /// PNG tEXt, zTXt and iTXt chunks, in file order (those before the image data).
    public var text: [PNGText] = []
    /// Physical pixel size: PNG pHYs, JPEG JFIF density.
    public var density: PixelDensity?

    public init(iccProfile: [UInt8]? = nil, iccName: String? = nil, srgbIntent: Int? = nil, gamma: Double? = nil) {
        self.iccProfile = iccProfile
        self.iccName = iccName
        self.srgbIntent = srgbIntent
        self.gamma = gamma
    }

    /// The metadata of this image upscaled by `scale`: the pixel density multiplied by it, so the
    /// picture keeps its print size (300 dpi at ×2 becomes 600 dpi); a unitless aspect ratio and
    /// everything else unchanged.
    public func upscaled(by scale: Int) -> ImageMetadata {
        var result = self
        if let density, density.unit != .none {
            let (x, xOverflow) = density.x.multipliedReportingOverflow(by: scale)
            let (y, yOverflow) = density.y.multipliedReportingOverflow(by: scale)
            result.density = xOverflow || yOverflow ? nil : PixelDensity(x: x, y: y, unit: density.unit)
        }
        return result
    }
}

/// One PNG text chunk. tEXt and zTXt hold Latin-1 (each byte one character here), iTXt UTF-8.
public struct PNGText: Sendable, Equatable {
    public enum Chunk: Sendable, Equatable {
        case tEXt, zTXt, iTXt, iTXtCompressed
    }

    public var chunk: Chunk
    public var keyword: String
    public var text: String
    /// iTXt only.
    public var language = "", translatedKeyword = ""

    public init(_ chunk: Chunk, keyword: String, text: String, language: String = "", translatedKeyword: String = "") {
        self.chunk = chunk
        self.keyword = keyword
        self.text = text
        self.language = language
        self.translatedKeyword = translatedKeyword
    }
}

/// Pixels per unit of length, horizontally and vertically.
public struct PixelDensity: Sendable, Equatable {
    public enum Unit: Sendable, Equatable {
        /// No unit: only the pixels' aspect ratio x:y.
        case none
        case inch, centimeter, meter
    }

    public var x: Int, y: Int
    public var unit: Unit

    public init(x: Int, y: Int, unit: Unit) {
        self.x = x
        self.y = y
        self.unit = unit
    }

    /// The same density per metre (rounded), as PNG's pHYs stores it; unitless stays unitless.
    var perMeter: (x: Int, y: Int, unit: Unit) {
        switch unit {
        case .none, .meter: (x, y, unit)
        case .centimeter: (x * 100, y * 100, .meter)
        case .inch: (Int((Double(x) / 0.0254).rounded()), Int((Double(y) / 0.0254).rounded()), .meter)
        }
    }

    /// The same density as a JFIF header can hold it (inch or centimetre; a per-metre density as
    /// dots per inch, rounded: 2835 per metre is 72 dpi); nil when a value is over JFIF's 65535.
    var forJFIF: (x: Int, y: Int, unit: Unit)? {
        let converted: (Int, Int, Unit) = switch unit {
        case .meter: (Int((Double(x) * 0.0254).rounded()), Int((Double(y) * 0.0254).rounded()), .inch)
        default: (x, y, unit)
        }
        guard (1...65535).contains(converted.0), (1...65535).contains(converted.1) else { return nil }
        return converted
    }
}

/// A decoded image: planar float samples in [0, 1], exactly the stored values scaled
/// (8-bit /255, 16-bit /65535; no gamma or colour conversion).
public struct RasterImage: Sendable {
    public var color: Tensor      // (1, 1 or 3, H, W) in [0, 1]: gray or RGB
    public var alpha: Tensor?     // (1, 1, H, W) in [0, 1], nil when none
    public var bitDepth: Int      // 8 or 16 (1/2/4-bit and palette count as 8)
    public var metadata: ImageMetadata

    public var width: Int { color.shape[3] }
    public var height: Int { color.shape[2] }
    public var channels: Int { color.shape[1] }

    public init(color: Tensor, alpha: Tensor?, bitDepth: Int = 8, metadata: ImageMetadata = .init()) {
        self.color = color
        self.alpha = alpha
        self.bitDepth = bitDepth
        self.metadata = metadata
    }
}

/// How to decode.
public struct DecodeOptions: Sendable {
    /// Rotate/flip JPEGs as their EXIF orientation tag says.
    public var applyOrientation = true
    /// Refuse images with more pixels than this, before allocating anything.
    public var maxPixels = 1 << 30
    /// Refuse, before allocating them, whole-image buffers (an Adam7 PNG's rows, a progressive
    /// JPEG's coefficients, a rotated JPEG's samples, a whole decoded image) of more bytes than
    /// this. Default: half the physical memory (`MemoryBudget.defaultBytes`).
    public var maxMemory = MemoryBudget.defaultBytes
    public init() {}
}

/// JPEG chroma subsampling.
public enum JPEGChroma: String, Sendable {
    case yuv444, yuv420
}

/// The PNG row filters the encoder may use (PNG spec, section 9). `adaptive` lets libpng pick one
/// of the five per row (smallest files, slowest); a single filter skips the search.
public enum PNGRowFilters: String, Sendable {
    case adaptive, none, sub, up, average, paeth
}

/// Who compresses a PNG's image data.
public enum PNGEncoder: String, Sendable {
    /// libpng with zlib, at `EncodeOptions.pngCompressionLevel` with `pngFilters`.
    case zlib
    /// Every row Paeth-filtered, then deflated by UpscaleKit with a fast greedy match search
    /// (FastDeflate.swift); level and filters are not used. On upscaled images: files smaller
    /// than zlib level 2's with the up filter, written faster; a little larger than level 6's.
    case fastDeflate
}

/// How to encode.
public struct EncodeOptions: Sendable {
    /// The output format; nil: from the output path's extension.
    public var format: ImageFormat?
    /// 8 or 16; nil: the image's own bit depth.
    public var pngBitDepth: Int?
    public var pngEncoder: PNGEncoder = .zlib
    /// zlib level 0...9 (the zlib encoder only).
    public var pngCompressionLevel = 6
    /// The zlib encoder's row filters.
    public var pngFilters: PNGRowFilters = .adaptive
    /// 1...100.
    public var jpegQuality = 95
    public var jpegChroma: JPEGChroma = .yuv444
    public var jpegProgressive = false
    /// Huffman tables optimized for the image (smaller files). libjpeg then keeps every DCT
    /// coefficient of the image, 2 bytes per sample, until the end: turn it off for huge outputs.
    public var jpegOptimizeHuffman = true
    /// What a JPEG output shows under transparent pixels: images with alpha are composited onto it.
    public var background = Background.white
    /// Replace an existing file at the output path.
    public var overwrite = false
    public init() {}

    /// JPEG outputs up to this many pixels get Huffman tables optimized for the image; libjpeg keeps
    /// the whole image's coefficients for that (6 bytes per RGB pixel: 96 MB at 16 megapixels).
    /// Larger outputs use the standard tables, so that their memory stays bounded.
    public static let optimizedJPEGPixels = 16 << 20

    /// What `upscale` writes its outputs with, for an output of `outputPixels` pixels: PNG by our
    /// own deflate encoder (on the x2 output of a 1080p photo 11× faster to encode than zlib level 6
    /// with libpng's adaptive filters, files 3% larger; BENCHMARKS.md, "PNG encoding"),
    /// JPEG Huffman tables optimized up to `optimizedJPEGPixels`.
    public static func upscaleOutput(pixels outputPixels: Int) -> EncodeOptions {
        var encode = EncodeOptions()
        encode.pngEncoder = .fastDeflate
        encode.jpegOptimizeHuffman = outputPixels <= optimizedJPEGPixels
        return encode
    }
}

/// A failed read or write, naming the file.
public struct ImageIOError: Error, CustomStringConvertible {
    /// What went wrong, for callers that react differently (the CLI's hints); the message says it
    /// to people. Callers never parse `message`.
    public enum Kind: Sendable, Equatable {
        /// Anything not listed below: an unreadable, truncated or corrupt input, a failed write.
        case other
        /// A well-formed file of a kind this reader does not handle (a CMYK JPEG).
        case unsupported
        /// More pixels than `DecodeOptions.maxPixels`.
        case overPixelLimit
        /// The path chosen for the file would hold more than `DecodeOptions.maxMemory` bytes.
        case overMemoryBudget
        /// The output path was taken, and was left as it is (no `overwrite`). `appearedMeanwhile`:
        /// it was free when the write began, and another writer created it before the final step.
        case outputExists(appearedMeanwhile: Bool)
    }

    public let path: String
    public let message: String
    public let kind: Kind

    public init(path: String, message: String, kind: Kind = .other) {
        self.path = path
        self.message = message
        self.kind = kind
    }

    public var description: String { "\(path): \(message)" }
}

/// What a file's header says, read without decoding pixels.
public struct ImageInfo: Sendable {
    public var format: ImageFormat
    /// Size as decoded: after the EXIF orientation when `DecodeOptions.applyOrientation` is on.
    public var width: Int
    public var height: Int
    /// Samples per pixel as decoded, alpha included: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// Rows can be read in bands with bounded memory (non-interlaced PNG, baseline JPEG
    /// that needs no rotation).
    public var streamable: Bool
    /// 8 or 16.
    public var bitDepth: Int = 8
    /// EXIF orientation 1...8 as stored (1 for PNG and when absent).
    public var orientation: Int = 1
    /// Bytes the decoder holds for the whole image at once (`ImageRowReader.wholeImageBytes`, with
    /// the orientation's sample planes); 0 when the file streams.
    public var wholeImageBytes: Int = 0
}

/// A horizontal strip of an image: rows `firstRow ..< firstRow + rows`.
public struct ImageBand: Sendable {
    public var color: Tensor   // (1, C, rows, W), C = 1 or 3
    public var alpha: Tensor?  // (1, 1, rows, W)
    public var rows: Int { color.shape[2] }

    public init(color: Tensor, alpha: Tensor?) {
        self.color = color
        self.alpha = alpha
    }
}
