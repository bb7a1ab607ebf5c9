// JPEG band reader over libjpeg's scanline API (through the cjpeg_* setjmp shims).
import CJPEG
#if canImport(Glibc)
import Glibc
#endif

/// Reads a JPEG (baseline or progressive, grayscale or YCbCr) in bands of 8-bit gray or RGB rows.
/// CMYK/YCCK files are refused.
public final class JPEGRowReader: ImageRowReader {
    public let format = ImageFormat.jpeg
    public let width: Int
    public let height: Int
    public let colorChannels: Int
    public let hasAlpha = false
    public let bitDepth = 8
    public let metadata: ImageMetadata
    public let orientation: Int
    public let streamable: Bool
    public private(set) var rowsRead = 0
    /// A progressive file's DCT coefficients, which libjpeg keeps for the whole image: per
    /// component its blocks (rounded up to its sampling factors) × 64 coefficients × 2 bytes.
    public let wholeImageBytes: Int

    private let path: String
    private let handle: CodecHandle<cjpeg_reader>
    private var reader: UnsafeMutablePointer<cjpeg_reader> { handle.pointer }
    private var failed = false

    init(source: InputSource, options: DecodeOptions, headerOnly: Bool = false) throws {
        path = source.name
        let handle = try CodecHandle(reading: source, create: cjpeg_reader_create, destroy: cjpeg_reader_destroy)
        self.handle = handle
        let reader = handle.pointer
        guard cjpeg_read_header(reader) != 0 else {
            throw ImageIOError(path: path, message: "JPEG header: \(handle.message)")
        }
        let cinfo = reader.pointee.cinfo
        width = Int(cinfo.image_width)
        height = Int(cinfo.image_height)
        streamable = cinfo.progressive_mode == 0
        let colorSpace = cinfo.jpeg_color_space
        switch (Int(cinfo.num_components), colorSpace) {
        case (1, _): colorChannels = 1
        case (3, JCS_YCbCr), (3, JCS_RGB): colorChannels = 3
        default:
            let kind = colorSpace == JCS_CMYK ? "CMYK" : colorSpace == JCS_YCCK ? "YCCK" : "\(cinfo.num_components)-component"
            throw ImageIOError(path: path, message: "\(kind) JPEG is not supported; convert it to RGB first",
                               kind: .unsupported)
        }
        var metadata = ImageMetadata()
        var exifLength: UInt32 = 0
        if let exif = cjpeg_exif(reader, &exifLength) {
            let payload = Array(UnsafeBufferPointer(start: exif, count: Int(exifLength)))  // "Exif\0\0" + TIFF
            orientation = ExifOrientation.parse(payload)
            if payload.count > 6 { metadata.exif = Array(payload[6...]) }
        } else {
            orientation = 1
        }
        if cinfo.saw_JFIF_marker != 0, cinfo.X_density > 0, cinfo.Y_density > 0, cinfo.density_unit <= 2,
           cinfo.density_unit != 0 || cinfo.X_density != cinfo.Y_density {   // 1:1 without a unit says nothing
            metadata.density = PixelDensity(x: Int(cinfo.X_density), y: Int(cinfo.Y_density),
                                            unit: [.none, .inch, .centimeter][Int(cinfo.density_unit)])
        }
        var icc: UnsafeMutablePointer<JOCTET>?
        var iccLength: UInt32 = 0
        guard cjpeg_read_icc(reader, &icc, &iccLength) != 0 else {
            throw ImageIOError(path: path, message: "JPEG ICC profile: \(handle.message)")
        }
        if let icc {
            metadata.iccProfile = Array(UnsafeBufferPointer(start: icc, count: Int(iccLength)))
            free(icc)
        }
        self.metadata = metadata
        try ImageLimits.check(width: width, height: height, options: options, path: path)
        var coefficients = 0
        if !streamable, let components = cinfo.comp_info {
            for i in 0..<Int(cinfo.num_components) {
                let c = components[i]
                let (h, v) = (Int(max(1, c.h_samp_factor)), Int(max(1, c.v_samp_factor)))
                coefficients += (Int(c.width_in_blocks) + h - 1) / h * h * ((Int(c.height_in_blocks) + v - 1) / v * v) * 128
            }
            try MemoryBudget.check(coefficients, budget: options.maxMemory, path: path,
                                   what: "decoding this \(width)×\(height) progressive JPEG (libjpeg keeps every coefficient)")
        }
        wholeImageBytes = coefficients
        // libjpeg's own limit too, so that no other buffer of its own goes past the budget either.
        reader.pointee.cinfo.mem.pointee.max_memory_to_use = options.maxMemory
        if headerOnly {
            failed = true  // never started: no rows to read
            return
        }
        guard cjpeg_start(reader, colorChannels == 1 ? JCS_GRAYSCALE : JCS_RGB) != 0 else {
            throw ImageIOError(path: path, message: "JPEG: \(handle.message)")
        }
    }

    /// libjpeg warnings so far (corrupt-data notices that did not stop decoding).
    public var warnings: String { handle.warnings }

    private func fail(_ what: String) -> ImageIOError {
        failed = true
        return ImageIOError(path: path, message: "\(what): \(handle.message)")
    }

    public func readBand(maxRows: Int) throws -> ImageBand? {
        guard !failed else { throw ImageIOError(path: path, message: "JPEG reader already failed (or was opened for the header only)") }
        guard let rows = nextBandRows(maxRows: maxRows) else { return nil }
        let rowBytes = width * colorChannels
        var buffer = [UInt8](repeating: 0, count: rows * rowBytes)  // (rows, W, C) samples
        let ok = buffer.withUnsafeMutableBufferPointer { bytes -> Bool in
            var pointers: [UnsafeMutablePointer<JSAMPLE>?] = (0..<rows).map { bytes.baseAddress! + $0 * rowBytes }
            return cjpeg_read_rows(reader, &pointers, JDIMENSION(rows)) != 0
        }
        guard ok else { throw fail("JPEG data at row \(rowsRead)") }
        let band = buffer.withUnsafeBufferPointer {
            PixelPacking.deinterleave($0.baseAddress!, rows: rows, width: width, channels: colorChannels, sampleBits: 8)
        }
        rowsRead += rows
        if rowsRead == height {
            guard cjpeg_finish(reader) != 0 else { throw fail("JPEG end") }
        }
        return band
    }
}
