// A decoded image served as bands (an image in memory fed to the streaming path, as the tests do).
// Internal: only the tests use it (through @testable).

final class RasterRowReader: ImageRowReader {
    public let format: ImageFormat
    public var width: Int { image.width }
    public var height: Int { image.height }
    public var colorChannels: Int { image.channels }
    public var hasAlpha: Bool { image.alpha != nil }
    public var bitDepth: Int { image.bitDepth }
    public var metadata: ImageMetadata { image.metadata }
    /// The orientation is already applied.
    public let orientation = 1
    public let streamable = false
    public private(set) var rowsRead = 0
    public let warnings: String
    public var wholeImageBytes: Int { (image.color.count + (image.alpha?.count ?? 0)) * 4 }

    private let image: RasterImage

    public init(_ image: RasterImage, format: ImageFormat, warnings: String = "") {
        self.image = image
        self.format = format
        self.warnings = warnings
    }

    public func readBand(maxRows: Int) throws -> ImageBand? {
        guard let rows = nextBandRows(maxRows: maxRows) else { return nil }
        let band = ImageBand(color: Self.rows(image.color, rowsRead..<(rowsRead + rows)),
                             alpha: image.alpha.map { Self.rows($0, rowsRead..<(rowsRead + rows)) })
        rowsRead += rows
        return band
    }

    // src = (1, C, H, W) / dst = (1, C, r.count, W).
    private static func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        if r == 0..<h { return t }
        var out = [Float]()
        out.reserveCapacity(c * r.count * w)
        for ch in 0..<c { out.append(contentsOf: t.data[((ch * h + r.lowerBound) * w)..<((ch * h + r.upperBound) * w)]) }
        return Tensor(shape: [1, c, r.count, w], data: out)
    }
}
