// A JPEG's rows as they are displayed, for EXIF orientations 2–8 (the table is in ExifOrientation).
//
//   2, a left-right flip: each band of the file with its columns reversed. Streams; nothing kept.
//   3–8: the first displayed row needs the file's last stored row (3, 4, 7: bottom first), or a
//        column of every stored row (5–8 swap rows and columns), so the file is read once, band by
//        band, into planes of 8-bit samples (1 byte per sample: the size of the decoded pixels, a
//        quarter of the float planes it used to be decoded into, and no second oriented copy);
//        displayed bands are gathered from those planes. The planes are counted in
//        `wholeImageBytes` and refused over `DecodeOptions.maxMemory` before they are allocated.
//
// A sample s read from the file arrives as the float s/255 (PixelPacking.value8), so it is stored
// as (value·255).rounded() = s and served as value8[s] again: the same bits as the file's reader.
#if canImport(Glibc)
import Glibc
#endif

final class OrientedRowReader: ImageRowReader {
    let format: ImageFormat
    let width: Int
    let height: Int
    var colorChannels: Int { source.colorChannels }
    var hasAlpha: Bool { source.hasAlpha }
    let bitDepth = 8
    /// The file's, with the EXIF orientation set to 1: these rows are already turned.
    var metadata: ImageMetadata {
        var metadata = source.metadata
        metadata.exif = metadata.exif.map { ExifOrientation.settingOrientation(1, inTIFF: $0) }
        return metadata
    }
    /// Applied here.
    let orientation = 1
    var streamable: Bool { stored == 0 && source.streamable }
    private(set) var rowsRead = 0
    var warnings: String { source.warnings }
    var wholeImageBytes: Int { stored + source.wholeImageBytes }

    private let source: any ImageRowReader
    private let applied: Int           // the EXIF orientation, 2...8
    private let path: String
    private let stored: Int            // bytes of the sample planes: 0 for orientation 2
    private var samples: UnsafeMutablePointer<UInt8>?  // (C + alpha, stored H, stored W), filled at the first band

    /// Bytes of the sample planes `source` needs for `orientation` (0 for 1 and 2).
    static func storedBytes(_ source: any ImageRowReader, orientation: Int) -> Int {
        orientation <= 2 ? 0 : (source.colorChannels + (source.hasAlpha ? 1 : 0)) * source.height * source.width
    }

    init(_ source: any ImageRowReader, orientation: Int, path: String, options: DecodeOptions) throws {
        precondition((2...8).contains(orientation) && source.orientation == orientation, "orientation 2...8 to apply")
        precondition(source.bitDepth == 8, "EXIF orientation is applied to JPEG, which is 8-bit")
        self.source = source
        self.applied = orientation
        self.path = path
        format = source.format
        (width, height) = orientation >= 5 ? (source.height, source.width) : (source.width, source.height)
        stored = Self.storedBytes(source, orientation: orientation)
        try MemoryBudget.check(wholeImageBytes, budget: options.maxMemory, path: path,
                               what: "rotating this \(source.width)×\(source.height) JPEG (EXIF orientation \(orientation)) reads it whole and")
    }

    deinit { free(samples) }

    func readBand(maxRows: Int) throws -> ImageBand? {
        precondition(maxRows > 0, "readBand needs maxRows > 0")
        if applied == 2 {
            guard let band = try source.readBand(maxRows: maxRows) else { return nil }
            rowsRead += band.rows
            return ImageBand(color: Self.flipColumns(band.color), alpha: band.alpha.map(Self.flipColumns))
        }
        guard rowsRead < height else { return nil }
        if samples == nil { try readStored() }
        guard let samples else { preconditionFailure("the planes were read") }
        let rows = min(maxRows, height - rowsRead)
        let (h, w) = (source.height, source.width)   // stored
        let first = rowsRead
        func plane(_ p: Int) -> Tensor {
            Tensor(shape: [1, 1, rows, width]) { out in
                PixelPacking.value8.withUnsafeBufferPointer { value in
                    let src = samples + p * h * w
                    for r in 0..<rows {
                        let dr = first + r   // displayed row
                        for c in 0..<width {
                            // (sr, sc): the stored pixel displayed at (dr, c), as in ExifOrientation.apply.
                            let (sr, sc): (Int, Int) = switch applied {
                            case 3: (h - 1 - dr, w - 1 - c)
                            case 4: (h - 1 - dr, c)
                            case 5: (c, dr)
                            case 6: (h - 1 - c, dr)
                            case 7: (h - 1 - c, w - 1 - dr)
                            default: (c, w - 1 - dr)  // 8
                            }
                            out[r * width + c] = value[Int(src[sr * w + sc])]
                        }
                    }
                }
            }
        }
        let color = (0..<colorChannels).map(plane)
        let band = ImageBand(color: colorChannels == 1 ? color[0]
                                : Tensor(shape: [1, colorChannels, rows, width], data: color.flatMap(\.data)),
                             alpha: hasAlpha ? plane(colorChannels) : nil)
        rowsRead += rows
        if rowsRead == height {
            free(self.samples)
            self.samples = nil
        }
        return band
    }

    /// Every stored row into `samples`, band by band (about a megapixel per band).
    private func readStored() throws {
        let (h, w) = (source.height, source.width)
        let planes = colorChannels + (hasAlpha ? 1 : 0)
        // Not zero-filled: every sample is written below, or the read fails and the planes go.
        let buffer = try MemoryBudget.allocate(stored, path: path).bindMemory(to: UInt8.self, capacity: stored)
        samples = buffer
        var row = 0
        while let band = try source.readBand(maxRows: max(1, (1 << 20) / w)) {
            let n = band.rows
            // src = color (1, C, n, W) + alpha (1, 1, n, W) / dst = plane p, stored rows row ..< row + n
            for p in 0..<planes {
                let t = p < colorChannels ? band.color : band.alpha!
                let channel = p < colorChannels ? p : 0
                t.withUnsafeBufferPointer { values in
                    let src = values.baseAddress! + channel * n * w
                    let dst = buffer + (p * h + row) * w
                    for i in 0..<(n * w) { dst[i] = UInt8((src[i] * 255).rounded()) }
                }
            }
            row += n
        }
        precondition(row == h, "the reader ended at row \(row) of \(h)")
    }

    // src = (1, C, n, W) / dst = (1, C, n, W) with column c taken from column W − 1 − c.
    private static func flipColumns(_ t: Tensor) -> Tensor {
        let w = t.shape[3]
        return Tensor(shape: t.shape) { out in
            t.withUnsafeBufferPointer { src in
                for start in stride(from: 0, to: src.count, by: w) {
                    for c in 0..<w { out[start + c] = src[start + w - 1 - c] }
                }
            }
        }
    }
}
