// PNG band reader over libpng's row API (through the cpng_* setjmp shims).
// Non-interlaced files stream row by row; Adam7 files are decoded whole at the first band.
import CPNG
#if canImport(Glibc)
import Glibc
#endif

/// Reads a PNG in bands: every colour type and bit depth, expanded to 8- or 16-bit gray,
/// gray+alpha, RGB or RGBA (palette → RGB, tRNS → alpha).
public final class PNGRowReader: ImageRowReader {
    public let format = ImageFormat.png
    public let width: Int
    public let height: Int
    public let colorChannels: Int
    public let hasAlpha: Bool
    public let bitDepth: Int
    public let metadata: ImageMetadata
    public let orientation = 1
    public let streamable: Bool
    public private(set) var rowsRead = 0
    /// libpng warnings so far.
    public var warnings: String { handle.warnings }

    private let path: String
    private let handle: CodecHandle<cpng_reader>
    private var reader: UnsafeMutablePointer<cpng_reader> { handle.pointer }
    private let channels: Int             // interleaved samples per pixel, alpha included
    private let rowBytes: Int
    private var wholeImage: UnsafeMutablePointer<UInt8>?  // Adam7 only: (H, rowBytes), filled at the first band
    private var failed = false

    init(source: InputSource, options: DecodeOptions) throws {
        path = source.name
        let handle = try CodecHandle(reading: source, create: cpng_reader_create, destroy: cpng_reader_destroy)
        self.handle = handle
        var header = cpng_header()
        guard cpng_read_header(handle.pointer, &header) != 0 else {
            throw ImageIOError(path: path, message: "PNG header: \(handle.message)")
        }
        width = Int(header.width)
        height = Int(header.height)
        try ImageLimits.check(width: width, height: height, options: options, path: path)
        guard cpng_start_rows(handle.pointer, &header) != 0 else {
            throw ImageIOError(path: path, message: "PNG: \(handle.message)")
        }
        channels = Int(header.channels)
        colorChannels = channels >= 3 ? 3 : 1
        hasAlpha = channels == 2 || channels == 4
        bitDepth = header.sample_bits == 16 ? 16 : 8
        rowBytes = header.row_bytes
        streamable = header.interlaced == 0
        if !streamable {
            try MemoryBudget.check(height * rowBytes, budget: options.maxMemory, path: path,
                                   what: "decoding this \(width)×\(height) interlaced PNG (it is read whole)")
        }
        var metadata = ImageMetadata()
        if let icc = header.icc, header.icc_length > 0 {
            metadata.iccProfile = Array(UnsafeBufferPointer(start: icc, count: Int(header.icc_length)))
            metadata.iccName = withUnsafePointer(to: &header.icc_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
        }
        if header.srgb_intent >= 0 { metadata.srgbIntent = Int(header.srgb_intent) }
        if header.gamma > 0 { metadata.gamma = header.gamma }
        if let exif = header.exif, header.exif_length > 0 {
            metadata.exif = Array(UnsafeBufferPointer(start: exif, count: Int(header.exif_length)))
        }
        if let text = header.text {
            metadata.text = (0..<Int(header.num_text)).compactMap { PNGTextChunks.text(text[$0]) }
        }
        if header.has_phys != 0, header.phys_x > 0, header.phys_y > 0 {
            metadata.density = PixelDensity(x: Int(header.phys_x), y: Int(header.phys_y),
                                            unit: header.phys_unit == PNG_RESOLUTION_METER ? .meter : .none)
        }
        self.metadata = metadata
    }

    deinit { free(wholeImage) }

    public var wholeImageBytes: Int { streamable ? 0 : height * rowBytes }

    private func fail(_ what: String) -> ImageIOError {
        failed = true
        free(wholeImage)
        wholeImage = nil
        return ImageIOError(path: path, message: "\(what): \(handle.message)")
    }

    public func readBand(maxRows: Int) throws -> ImageBand? {
        guard !failed else { throw ImageIOError(path: path, message: "PNG reader already failed") }
        guard let rows = nextBandRows(maxRows: maxRows) else { return nil }
        var band: ImageBand
        if streamable {
            var buffer = [UInt8](repeating: 0, count: rows * rowBytes)  // (rows, rowBytes)
            let ok = buffer.withUnsafeMutableBufferPointer { bytes -> Bool in
                var pointers: [UnsafeMutablePointer<UInt8>?] = (0..<rows).map { bytes.baseAddress! + $0 * rowBytes }
                return cpng_read_rows(reader, &pointers, png_uint_32(rows)) != 0
            }
            guard ok else { throw fail("PNG data at row \(rowsRead)") }
            band = buffer.withUnsafeBufferPointer {
                PixelPacking.deinterleave($0.baseAddress!, rows: rows, width: width, channels: channels,
                                          sampleBits: bitDepth)
            }
        } else {
            if wholeImage == nil {
                // (H, rowBytes), not zero-filled: libpng writes every row, and a file whose data
                // ends early fails before it has touched (and so mapped) the rest.
                let buffer = try MemoryBudget.allocate(wholeImageBytes, path: path).bindMemory(to: UInt8.self, capacity: wholeImageBytes)
                wholeImage = buffer
                var pointers: [UnsafeMutablePointer<UInt8>?] = (0..<height).map { buffer + $0 * rowBytes }
                guard cpng_read_image(reader, &pointers) != 0 else { throw fail("PNG data (interlaced)") }
            }
            band = PixelPacking.deinterleave(wholeImage! + rowsRead * rowBytes, rows: rows, width: width,
                                             channels: channels, sampleBits: bitDepth)
        }
        rowsRead += rows
        if rowsRead == height {
            free(wholeImage)
            wholeImage = nil
            guard cpng_read_end(reader) != 0 else { throw fail("PNG end") }
        }
        return band
    }
}
