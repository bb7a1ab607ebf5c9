// How images are decoded and encoded.

/// How to decode.
public struct DecodeOptions: Sendable {
    /// Rotate/flip JPEGs as their EXIF orientation tag says.
    public var applyOrientation = true
    /// Refuse images with more pixels than this, before allocating anything.
    public var maxPixels = 1 << 30
    /// Refuse, before allocating them, whole-image buffers (an Adam7 PNG's rows, a progressive
    /// JPEG's coefficients, a rotated JPEG's samples, a whole decoded image) of more bytes than
    /// this. Default: the budget `upscale` gives a file (`MemoryBudget.defaultBytes`: half the
    /// physical memory or of the container's limit, read once per process, and no more than what
    /// an address-space limit leaves, checked only where one is set).
    public var maxMemory = MemoryBudget.defaultBytes
    /// The most bytes one group of a rotated JPEG's samples may take (`OrientedRowReader`); nil:
    /// the whole image when it fits half of `maxMemory`, else a quarter of it. A caller that knows
    /// what else the run holds sets it, so that a plan of more passes fits where one pass does not.
    public var orientationGroupBytes: Int? = nil
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
    /// Default: our fast deflate encoder, as `upscale` writes PNG (`.zlib` for libpng's own).
    public var pngEncoder: PNGEncoder = .fastDeflate
    /// zlib level 0...9 (the zlib encoder only).
    public var pngCompressionLevel = 6
    /// The zlib encoder's row filters.
    public var pngFilters: PNGRowFilters = .adaptive
    /// Workers coding the fast deflate encoder's blocks (the output bytes do not depend on it).
    public var threads = 1
    /// 1...100.
    public var jpegQuality = 95
    public var jpegChroma: JPEGChroma = .yuv444
    public var jpegProgressive = false
    /// Huffman tables optimized for the image (smaller files). libjpeg then keeps every DCT
    /// coefficient of the image, 2 bytes per sample, until the end: turn it off for huge outputs.
    public var jpegOptimizeHuffman = true
    /// WebP lossy quality 1...100 (cwebp's default 75).
    public var webpQuality = WebPRowWriter.defaultQuality
    /// Lossless WebP (`webpQuality` is then the effort libwebp puts into compression).
    public var webpLossless = false
    /// What a JPEG output shows under transparent pixels: images with alpha are composited onto it.
    public var background = Background.white
    /// Replace an existing file at the output path.
    public var overwrite = false
    public init() {}

    /// JPEG outputs up to this many pixels get Huffman tables optimized for the image. For that,
    /// libjpeg keeps the whole image's coefficients (6 bytes per RGB pixel), and only after the last
    /// row does it count their symbols and code them, on one thread: on the x2 output of a 1080p
    /// photo (8.3 megapixels) that is a ~40 ms tail with a core idle and 0.09–0.12 CPU s more than the
    /// standard tables, for a file 3.7% smaller (BENCHMARKS.md, issue 28, branch `wall2`). Larger
    /// outputs use the standard tables, coded band by band as the rows arrive, in bounded memory.
    public static let optimizedJPEGPixels = 2 << 20

    /// What `upscale` writes an output of `outputPixels` pixels with: the defaults (PNG by our own
    /// deflate encoder: on the x2 output of a 1080p photo 11× faster to encode than zlib level 6
    /// with libpng's adaptive filters, files 3% larger; BENCHMARKS.md, "PNG encoding"), with JPEG
    /// Huffman tables optimized up to `optimizedJPEGPixels` only.
    public static func upscaleOutput(pixels outputPixels: Int) -> EncodeOptions {
        var encode = EncodeOptions()
        encode.jpegOptimizeHuffman = outputPixels <= optimizedJPEGPixels
        return encode
    }
}
