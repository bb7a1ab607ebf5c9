// A JPEG's rows as they are displayed, for EXIF orientations 2–8 (the table is in ExifOrientation).
//
//   2, a left-right flip: each band of the file with its columns reversed. Streams; nothing kept.
//   3–8: the first displayed row needs the file's last stored row (3, 4) or a column of every
//        stored row (5–8 swap rows and columns). The displayed rows are served in groups: for each
//        group the file is read top to bottom, band by band, and only the stored pixels the group
//        shows are kept, as 8-bit samples:
//          3, 4   displayed rows [g0, g1) = stored rows [H − g1, H − g0); reading stops there
//          5, 6   displayed rows [g0, g1) = stored columns [g0, g1) of every row
//          7, 8   displayed rows [g0, g1) = stored columns [W − g1, W − g0) of every row
//        One group holds the whole image (one read of the file, 1 byte per sample) when that fits
//        half of `DecodeOptions.maxMemory`; otherwise groups of a quarter of it each, and the file
//        is read once per group (a 30000×30000 RGB photo, 2.5 GB of samples, under a 4 GB budget:
//        3 reads in groups of 1 GB). Memory stays within the budget whatever the image size; the
//        cost of a small budget is time.
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
    let colorChannels: Int
    let hasAlpha: Bool
    let bitDepth = 8
    /// The file's, with the EXIF orientation set to 1: these rows are already turned.
    let metadata: ImageMetadata
    /// Applied here.
    let orientation = 1
    var streamable: Bool { groupRows == 0 && source.streamable }
    private(set) var rowsRead = 0
    var warnings: String { source.warnings }
    var wholeImageBytes: Int { Self.groupBytes(source, groupRows: groupRows, orientation: applied) + source.wholeImageBytes }

    private var source: any ImageRowReader
    private let reopen: () throws -> any ImageRowReader
    private let applied: Int           // the EXIF orientation, 2...8
    private let path: String
    private let groupRows: Int         // displayed rows per group; 0 for orientation 2
    private var passes = 0             // reads of the file so far
    private var group: (rows: Range<Int>, stored: (rows: Range<Int>, cols: Range<Int>), samples: UnsafeMutablePointer<UInt8>)?

    /// Displayed rows per group for `source` under `budget`: every row when its samples fit half of
    /// it, else as many as a quarter of it holds (at least 1); 0 for orientations 1 and 2.
    /// `groupBytes`, when given, is the size of a group instead (at least one row).
    static func groupRows(_ source: any ImageRowReader, orientation: Int, budget: Int, groupBytes: Int? = nil) -> Int {
        guard orientation >= 3 else { return 0 }
        let displayed = orientation >= 5 ? (rows: source.width, width: source.height) : (rows: source.height, width: source.width)
        let rowBytes = (source.colorChannels + (source.hasAlpha ? 1 : 0)) * displayed.width
        if let groupBytes { return min(displayed.rows, max(1, groupBytes / max(1, rowBytes))) }
        if rowBytes * displayed.rows <= budget / 2 { return displayed.rows }
        return min(displayed.rows, max(1, budget / 4 / rowBytes))
    }

    /// Bytes of one group's sample planes.
    static func groupBytes(_ source: any ImageRowReader, groupRows: Int, orientation: Int) -> Int {
        let displayedWidth = orientation >= 5 ? source.height : source.width
        return (source.colorChannels + (source.hasAlpha ? 1 : 0)) * displayedWidth * groupRows
    }

    /// - Parameters: `source` a reader of the file (rows as stored) with this EXIF `orientation`;
    ///   `reopen` opens another reader of the same file, for the second group on; `budget` bytes
    ///   (nil: every row in one group whatever it costs, for a caller that holds the whole image anyway);
    ///   `groupBytes` the size of a group within it (nil: `groupRows`' rule).
    init(_ source: any ImageRowReader, orientation: Int, path: String, budget: Int?, groupBytes: Int? = nil,
         reopen: @escaping () throws -> any ImageRowReader) throws {
        precondition((2...8).contains(orientation) && source.orientation == orientation, "orientation 2...8 to apply")
        precondition(source.bitDepth == 8, "EXIF orientation is applied to JPEG, which is 8-bit")
        self.source = source
        self.reopen = reopen
        self.applied = orientation
        self.path = path
        format = source.format
        colorChannels = source.colorChannels
        hasAlpha = source.hasAlpha
        (width, height) = orientation >= 5 ? (source.height, source.width) : (source.width, source.height)
        var metadata = source.metadata
        metadata.exif = metadata.exif.map { ExifOrientation.settingOrientation(1, inTIFF: $0) }
        self.metadata = metadata
        groupRows = orientation <= 2 ? 0 : budget.map { Self.groupRows(source, orientation: orientation, budget: $0, groupBytes: groupBytes) } ?? height
        if let budget {
            try MemoryBudget.check(wholeImageBytes, budget: budget, path: path,
                                   what: "rotating this \(source.width)×\(source.height) JPEG (EXIF orientation \(orientation))")
        }
    }

    deinit { free(group?.samples) }

    func readBand(maxRows: Int) throws -> ImageBand? {
        precondition(maxRows > 0, "readBand needs maxRows > 0")
        if applied == 2 {
            guard let band = try source.readBand(maxRows: maxRows) else { return nil }
            rowsRead += band.rows
            return ImageBand(color: Self.flipColumns(band.color), alpha: band.alpha.map(Self.flipColumns))
        }
        guard rowsRead < height else { return nil }
        if group == nil || !group!.rows.contains(rowsRead) { try readGroup(from: rowsRead) }
        guard let group else { preconditionFailure("the group was read") }
        let rows = min(maxRows, group.rows.upperBound - rowsRead)
        let (h, w) = (source.height, source.width)   // stored
        let (first, samples, stored) = (rowsRead, group.samples, group.stored)
        let storedPlane = stored.rows.count * stored.cols.count
        func plane(_ p: Int) -> Tensor {
            Tensor(shape: [1, 1, rows, width]) { out in
                PixelPacking.value8.withUnsafeBufferPointer { value in
                    let src = samples + p * storedPlane
                    for r in 0..<rows {
                        let dr = first + r   // displayed row
                        for c in 0..<width {
                            let (sr, sc) = ExifOrientation.storedPixel(row: dr, column: c, orientation: applied,
                                                                       height: h, width: w)
                            out[r * width + c] = value[Int(src[(sr - stored.rows.lowerBound) * stored.cols.count + sc - stored.cols.lowerBound])]
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
            free(self.group?.samples)
            self.group = nil
        }
        return band
    }

    /// The group of displayed rows from `first`: reads the file (again, after the first group)
    /// and keeps the stored rectangle those rows show.
    private func readGroup(from first: Int) throws {
        let (h, w) = (source.height, source.width)
        let rows = first..<min(height, first + groupRows)
        let stored: (rows: Range<Int>, cols: Range<Int>) = switch applied {
        case 3, 4: ((h - rows.upperBound)..<(h - rows.lowerBound), 0..<w)
        case 5, 6: (0..<h, rows)
        default: (0..<h, (w - rows.upperBound)..<(w - rows.lowerBound))  // 7, 8
        }
        free(group?.samples)
        group = nil
        if passes > 0 {
            let again = try reopen()
            guard again.width == w, again.height == h, again.colorChannels == colorChannels, again.hasAlpha == hasAlpha else {
                throw ImageIOError(path: path, message: "the file changed while it was read again for its rotation")
            }
            source = again
        }
        passes += 1
        let planes = colorChannels + (hasAlpha ? 1 : 0)
        let (storedW, plane) = (stored.cols.count, stored.rows.count * stored.cols.count)
        let bytes = planes * plane
        // Not zero-filled: every sample is written below, or the read fails and the planes go.
        let samples = try MemoryBudget.allocate(bytes, path: path).bindMemory(to: UInt8.self, capacity: bytes)
        group = (rows, stored, samples)
        var row = 0
        while row < stored.rows.upperBound, let band = try source.readBand(maxRows: max(1, (1 << 20) / w)) {
            let n = band.rows
            // src = color (1, C, n, W) + alpha (1, 1, n, W), stored rows row ..< row + n
            // dst = plane p (stored.rows × stored.cols): the part of those rows inside the rectangle
            let kept = max(row, stored.rows.lowerBound)..<min(row + n, stored.rows.upperBound)
            for p in 0..<planes where !kept.isEmpty {
                let t = p < colorChannels ? band.color : band.alpha!
                let channel = p < colorChannels ? p : 0
                t.withUnsafeBufferPointer { values in
                    for sr in kept {
                        let src = values.baseAddress! + (channel * n + sr - row) * w + stored.cols.lowerBound
                        let dst = samples + p * plane + (sr - stored.rows.lowerBound) * storedW
                        for i in 0..<storedW { dst[i] = UInt8((src[i] * 255).rounded()) }
                    }
                }
            }
            row += n
        }
        precondition(row >= stored.rows.upperBound, "the reader ended at row \(row) of \(h)")
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
