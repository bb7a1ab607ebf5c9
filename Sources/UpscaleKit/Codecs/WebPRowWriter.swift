// WebP band writer over libwebp's encoder (WebPEncode), metadata chunks by libwebpmux.
//
// libwebp encodes from a whole picture: the bands are packed into the picture's ARGB pixels
// (4 bytes per pixel) as they arrive, and the file is encoded at `finish()`, into memory, then
// given its ICCP/EXIF chunks and written to the sink. Memory is therefore not bounded by the band
// size: `estimatedBytes` is what the upscale's memory estimate counts for it.

import CWebP
#if canImport(Glibc)
import Glibc
#endif

/// Writes a WebP: lossy at a quality (cwebp's default 75) or lossless, with alpha when the bands
/// have it; ICC profile and EXIF as chunks. 8-bit; gray bands are written as RGB.
public final class WebPRowWriter: ImageRowWriter {
    public let width: Int
    public let height: Int
    public let colorChannels: Int
    public let hasAlpha: Bool
    public private(set) var rowsWritten = 0

    /// WebP's largest side (WEBP_MAX_DIMENSION).
    public static let maxSide = 16383
    /// Quality of lossy outputs when none is given: cwebp's default.
    public static let defaultQuality = 75

    private let sink: OutputSink
    private var picture: WebPPicture           // argb: (H, argb_stride) UInt32, 0xAARRGGBB
    private var config: WebPConfig
    private let metadata: ImageMetadata
    private var notes: [String]
    private var failed = false
    private var finished = false
    private var path: String { sink.name }

    /// Throws, before anything is written, when `width`×`height` is over WebP's 16383×16383.
    public static func checkSize(width: Int, height: Int, path: String) throws {
        guard (1...maxSide).contains(width), (1...maxSide).contains(height) else {
            throw ImageIOError(path: path, message: "a \(width)×\(height) output is too large for WebP, which holds "
                               + "at most \(maxSide)×\(maxSide) pixels; write PNG instead (-f png or a .png name)",
                               kind: .unsupported, side: .output)
        }
    }

    /// Bytes the writer holds for a `width`×`height` output at its peak, in `finish()`: the ARGB
    /// picture and libwebp's encoder with its output, per pixel. Measured on random noise (the worst
    /// case: the largest token and hash buffers, an incompressible output) with 4 MP pictures, as the
    /// peak RSS of encoding minus that of holding the image: lossless, or lossy with alpha (the alpha
    /// plane is coded by the lossless coder) 38.4 bytes per pixel, lossy RGB 19.8; a photo takes 6
    /// (lossy) to 25 (lossless). Counted with a 10–20% margin. BENCHMARKS.md, "WebP encoder memory".
    public static func estimatedBytes(width: Int, height: Int, lossless: Bool, hasAlpha: Bool) -> Int {
        width * height * (lossless || hasAlpha ? 44 : 24)
    }

    init(sink: OutputSink, width: Int, height: Int, colorChannels: Int, hasAlpha: Bool, bitDepth: Int,
         metadata: ImageMetadata, options: EncodeOptions) throws {
        self.sink = sink
        self.width = width
        self.height = height
        self.colorChannels = colorChannels
        self.hasAlpha = hasAlpha
        self.metadata = metadata
        notes = bitDepth == 16 ? ["16-bit samples reduced to 8 bits: WebP is 8-bit"] : []
        picture = WebPPicture()
        config = WebPConfig()
        // From here, a throw leaves the sink to deinit, which discards it.
        guard colorChannels == 1 || colorChannels == 3 else {
            throw ImageIOError(path: sink.name, message: "WebP output needs 1 or 3 colour channels, got \(colorChannels)", side: .output)
        }
        try Self.checkSize(width: width, height: height, path: sink.name)
        guard (1...100).contains(options.webpQuality) else {
            throw ImageIOError(path: sink.name, message: "WebP quality must be 1...100, got \(options.webpQuality)", side: .output)
        }
        guard WebPConfigInit(&config) != 0, WebPPictureInit(&picture) != 0 else {
            throw ImageIOError(path: sink.name, message: "libwebp version mismatch (cannot initialise the encoder)", side: .output)
        }
        config.quality = Float(options.webpQuality)
        config.lossless = options.webpLossless ? 1 : 0
        config.exact = options.webpLossless ? 1 : 0   // lossless keeps the colour of transparent pixels too
        guard WebPValidateConfig(&config) != 0 else {
            throw ImageIOError(path: sink.name, message: "libwebp refused the encoder settings", side: .output)
        }
        picture.use_argb = 1
        picture.width = Int32(width)
        picture.height = Int32(height)
        guard WebPPictureAlloc(&picture) != 0 else {
            throw ImageIOError(path: sink.name, message: "cannot allocate the \(width)×\(height) picture WebP encodes from "
                               + "(out of memory?)", kind: .overMemoryBudget, side: .output)
        }
    }

    deinit {
        WebPPictureFree(&picture)
        if !finished { sink.discard() }
    }

    private func checkOpen() throws {
        guard !failed && !finished else { throw ImageIOError(path: path, message: "WebP writer is closed", side: .output) }
    }

    public func write(_ band: ImageBand) throws {
        try checkOpen()
        try BandCheck.validate(band, width: width, colorChannels: colorChannels, alphaNeeded: hasAlpha,
                               rowsLeft: height - rowsWritten, path: path)
        guard band.rows > 0 else { return }
        let layout = PackedRowLayout(sampleBits: 8, colorChannels: colorChannels, withAlpha: hasAlpha)
        store(PixelPacking.interleaved(band, withAlpha: hasAlpha, sampleBits: 8, rowBytes: layout.rowBytes(width: width)),
              rows: band.rows)
    }

    public var packedLayout: PackedRowLayout? {
        PackedRowLayout(sampleBits: 8, colorChannels: colorChannels, withAlpha: hasAlpha)
    }

    public func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws {
        try checkOpen()
        let rowBytes = packedLayout!.rowBytes(width: width)
        guard rows <= height - rowsWritten, bytes.count == rows * rowBytes else {
            throw ImageIOError(path: path, message: "\(bytes.count) bytes for \(rows) packed rows of \(rowBytes) "
                               + "bytes, \(height - rowsWritten) rows left", side: .output)
        }
        store(bytes, rows: rows)
    }

    /// src = (rows, W, C + alpha) 8-bit samples / dst = the picture's rows from `rowsWritten`, 0xAARRGGBB.
    private func store(_ samples: [UInt8], rows: Int) {
        let channels = colorChannels + (hasAlpha ? 1 : 0)
        let (gray, stride) = (colorChannels == 1, Int(picture.argb_stride))
        samples.withUnsafeBufferPointer { src in
            for r in 0..<rows {
                let out = picture.argb + (rowsWritten + r) * stride
                let row = src.baseAddress! + r * width * channels
                for x in 0..<width {
                    let p = row + x * channels
                    let (red, green, blue) = gray ? (p[0], p[0], p[0]) : (p[0], p[1], p[2])
                    let alpha = hasAlpha ? p[channels - 1] : 255
                    out[x] = UInt32(alpha) << 24 | UInt32(red) << 16 | UInt32(green) << 8 | UInt32(blue)
                }
            }
        }
        rowsWritten += rows
    }

    public func finish() throws -> [WriterNote] {
        try checkOpen()
        guard rowsWritten == height else {
            abort()
            throw ImageIOError(path: path, message: "only \(rowsWritten) of \(height) rows were written", side: .output)
        }
        var memory = WebPMemoryWriter()
        WebPMemoryWriterInit(&memory)
        defer { WebPMemoryWriterClear(&memory) }
        guard cwebp_encode(&config, &picture, &memory) != 0 else {
            abort()
            throw ImageIOError(path: path, message: "WebP encoding failed: \(Self.describe(picture.error_code))", side: .output)
        }
        WebPPictureFree(&picture)
        let icc = metadata.iccProfile ?? [], exif = metadata.exif ?? []
        var file = WebPData()
        defer { WebPDataClear(&file) }
        var encoded = (bytes: UnsafePointer<UInt8>(memory.mem), size: memory.size)
        if !icc.isEmpty || !exif.isEmpty {
            var message = [CChar](repeating: 0, count: 256)
            let ok = icc.withUnsafeBufferPointer { iccBytes in
                exif.withUnsafeBufferPointer { exifBytes in
                    cwebp_add_metadata(memory.mem, memory.size, iccBytes.baseAddress, icc.count,
                                       exifBytes.baseAddress, exif.count, &file, &message, message.count) != 0
                }
            }
            guard ok else {
                abort()
                throw ImageIOError(path: path, message: String(cString: message), side: .output)
            }
            encoded = (file.bytes, file.size)
        }
        guard let bytes = encoded.bytes, fwrite(bytes, 1, encoded.size, sink.file) == encoded.size else {
            let reason = sink.writeFailure.map { ": \($0)" } ?? ""
            abort()
            throw ImageIOError(path: path, message: "WebP write failed\(reason)", side: .output)
        }
        finished = true
        try sink.commit()
        return notes.map(WriterNote.changed)
    }

    public func abort() {
        failed = true
        sink.discard()
    }

    static func describe(_ error: WebPEncodingError) -> String {
        switch error {
        case VP8_ENC_ERROR_OUT_OF_MEMORY, VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory"
        case VP8_ENC_ERROR_BAD_DIMENSION: return "bad picture size"
        case VP8_ENC_ERROR_PARTITION0_OVERFLOW, VP8_ENC_ERROR_PARTITION_OVERFLOW:
            return "a partition is over libwebp's 512 KB limit (try a lower quality)"
        case VP8_ENC_ERROR_FILE_TOO_BIG: return "the file would be over 4 GB"
        default: return "libwebp error \(error.rawValue)"
        }
    }
}
