// JPEG band writer over libjpeg's scanline API (through the cjpeg_* setjmp shims).
import CJPEG
#if canImport(Glibc)
import Glibc
#endif

/// Writes a JPEG in bands: 8-bit gray or RGB, optimized or standard Huffman tables, 4:4:4 or 4:2:0,
/// optionally progressive, ICC profile in APP2 markers. Memory is bounded (a few rows) only with
/// standard tables and baseline output: optimized tables and progressive output make libjpeg keep
/// the whole image's coefficients.
public final class JPEGRowWriter: ImageRowWriter {
    public let width: Int
    public let height: Int
    /// Of the bands written; the file's are `fileChannels`.
    public let colorChannels: Int
    public var rowsWritten: Int { output.rowsWritten }

    private let output: RowWriterOutput<cjpeg_writer>
    /// Bands carry alpha, composited onto this; nil: no alpha.
    private let background: Background?
    private let fileChannels: Int
    private var writer: UnsafeMutablePointer<cjpeg_writer> { output.pointer }
    private var notes: [String]

    /// `background`: the bands have alpha, composited onto it (a gray image on a background that
    /// is not gray is written as RGB).
    init(sink: OutputSink, width: Int, height: Int, colorChannels: Int, background: Background? = nil,
         metadata: ImageMetadata, options: EncodeOptions, notes: [String] = []) throws {
        // A throw from here on drops `output` unfinished, which discards the sink.
        let output = try RowWriterOutput(sink: sink, format: "JPEG", height: height,
                                         create: cjpeg_writer_create, destroy: cjpeg_writer_destroy)
        let path = sink.name
        guard colorChannels == 1 || colorChannels == 3 else {
            throw ImageIOError(path: path, message: "JPEG output needs 1 or 3 colour channels, got \(colorChannels)", side: .output)
        }
        guard (1...100).contains(options.jpegQuality) else {
            throw ImageIOError(path: path, message: "JPEG quality must be 1...100, got \(options.jpegQuality)", side: .output)
        }
        guard (1...65500).contains(width), (1...65500).contains(height) else {
            throw ImageIOError(path: path, message: "JPEG cannot hold a \(width)×\(height) image (65500 pixels per side at most)", side: .output)
        }
        self.width = width
        self.height = height
        self.colorChannels = colorChannels
        self.background = background
        let fileChannels = colorChannels == 1 && !(background?.isGray ?? true) ? 3 : colorChannels
        self.fileChannels = fileChannels
        self.notes = notes
        self.output = output
        let icc = metadata.iccProfile ?? []
        // APP1: "Exif\0\0" + TIFF, at most 65533 bytes (the marker's length field counts itself).
        var exif = metadata.exif.map { Array("Exif".utf8) + [0, 0] + $0 } ?? []
        if exif.count > 65533 {
            self.notes.append("EXIF of \(exif.count) bytes left out: more than a JPEG APP1 marker holds")
            exif = []
        }
        let density = metadata.density?.forJFIF
        let writer = output.pointer
        let ok = icc.withUnsafeBufferPointer { iccBytes in
            exif.withUnsafeBufferPointer { exifBytes in
            var params = cjpeg_write_params()
            params.width = JDIMENSION(width)
            params.height = JDIMENSION(height)
            params.components = Int32(fileChannels)
            params.quality = Int32(options.jpegQuality)
            params.chroma_420 = options.jpegChroma == .yuv420 ? 1 : 0
            params.progressive = options.jpegProgressive ? 1 : 0
            params.standard_tables = options.jpegOptimizeHuffman ? 0 : 1
            params.icc = icc.isEmpty ? nil : iccBytes.baseAddress
            params.icc_length = UInt32(icc.count)
            params.exif = exif.isEmpty ? nil : exifBytes.baseAddress
            params.exif_length = UInt32(exif.count)
            if let density {
                params.density_unit = density.unit == .inch ? 1 : density.unit == .centimeter ? 2 : 0
                params.x_density = UInt32(density.x)
                params.y_density = UInt32(density.y)
            }
            return cjpeg_start_compress(writer, &params) != 0
            }
        }
        guard ok else { throw ImageIOError(path: path, message: "JPEG setup: \(output.message)", side: .output) }
    }

    public func write(_ band: ImageBand) throws {
        try output.checkOpen()
        try BandCheck.validate(band, width: width, colorChannels: colorChannels, alphaNeeded: background != nil,
                               rowsLeft: output.rowsLeft, path: output.path)
        let rows = band.rows
        guard rows > 0 else { return }
        let rowBytes = width * fileChannels
        let flat = if let background, band.alpha != nil {
            ImageBand(color: background.composite(band, outputChannels: fileChannels), alpha: nil)
        } else {
            band
        }
        guard flat.color.shape[1] == fileChannels else {
            throw ImageIOError(path: output.path, message: "band has no alpha, but the JPEG writer was opened for an image with alpha", side: .output)
        }
        try writeRows(PixelPacking.interleaved(flat, withAlpha: false, sampleBits: 8, rowBytes: rowBytes), rows: rows)
    }

    /// Packed 8-bit rows when nothing is composited (no alpha): the colour channels as the file has them.
    public var packedLayout: PackedRowLayout? {
        background == nil ? PackedRowLayout(sampleBits: 8, colorChannels: fileChannels, withAlpha: false) : nil
    }

    /// libjpeg codes on this thread only, whatever `threads` allows.
    public func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws {
        try output.checkOpen()
        guard let layout = packedLayout else { preconditionFailure("packed rows for a JPEG that composites alpha") }
        try output.checkPacked(byteCount: bytes.count, rows: rows, rowBytes: layout.rowBytes(width: width))
        guard rows > 0 else { return }
        try writeRows(bytes, rows: rows)
    }

    /// `rows` rows of 8-bit samples (rows, W, C), through libjpeg.
    private func writeRows(_ samples: [UInt8], rows: Int) throws {
        try output.writeRows(samples, rows: rows, orFail: "JPEG write") { cjpeg_write_rows(writer, &$0, JDIMENSION(rows)) != 0 }
    }

    public func finish() throws -> [WriterNote] {
        notes.map(WriterNote.changed) + (try output.finish(orFail: "JPEG end") { cjpeg_finish_compress(writer) != 0 })
    }

    public func abort() { output.abort() }
}
