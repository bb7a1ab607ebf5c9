// Decoded pixels as float planes: a whole image, a band of its rows, and what a header says
// before any pixel is decoded.

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
