// What an image carries besides its pixels and keeps through an upscale: colour profile, text,
// EXIF, pixel density.

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
