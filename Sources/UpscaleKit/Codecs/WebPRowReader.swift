// WebP band reader over libwebp's incremental decoder (WebPIDecoder), metadata from libwebpdemux.
//
// The compressed file is read into memory whole (libwebp decodes from a buffer; the demuxer needs
// the whole RIFF container for the EXIF chunk, which comes after the image data). The decoded
// pixels stream: the decoder writes 8-bit RGB or RGBA rows into a virtual buffer of the whole
// image (mmap, reserved but not backed), the reader hands the decoder more of the file until the
// rows of the next band are final (WebPIDecGetRGB's last_y), copies them out, and returns their
// pages to the system (madvise MADV_DONTNEED). libwebp never reads back rows it has output, so
// what is resident is the rows not yet read: those the last 8 KiB of the file decoded to.
// Held whole (`wholeImageBytes`): the compressed file; for a lossless (VP8L) image, libwebp's
// lossless decoder keeps every decoded pixel as ARGB (4 bytes per pixel: its backward references
// reach anywhere above), so such a file does not stream (`streamable` false, like an Adam7 PNG);
// for a lossy image with alpha, the alpha plane and its lossless decoder's pixels (2 bytes per
// pixel). Measured: peak RSS of the decoder alone on a 500×16000 image, BENCHMARKS.md.
import CWebP
#if canImport(Glibc)
import Glibc
#endif

/// Reads a still WebP (lossy or lossless, with or without alpha) in bands of 8-bit RGB(A) rows.
/// Animated files are refused. The EXIF orientation is not applied (as for PNG): EXIF is carried.
public final class WebPRowReader: ImageRowReader {
    public let format = ImageFormat.webp
    public let width: Int
    public let height: Int
    public let colorChannels = 3
    public let hasAlpha: Bool
    public let bitDepth = 8
    public let metadata: ImageMetadata
    public let orientation = 1
    public let streamable: Bool
    public private(set) var rowsRead = 0
    public let wholeImageBytes: Int
    public let warnings = ""
    /// True for a lossless (VP8L) bitstream.
    public let lossless: Bool

    private let path: String
    private let data: [UInt8]                     // the whole file; empty when opened for the header only
    private var decoder: IncrementalDecoder?
    private var failed = false

    /// Bytes handed to the decoder per step while waiting for rows: what it decodes ahead of the
    /// band being read (at 0.1 byte per pixel, 80 000 pixels). 8 KiB calls cost no measurable time.
    static let feedBytes = 8 << 10
    /// Bytes read for the header only (`headerOnly`): enough for the VP8X, ICCP and frame headers.
    static let headerBytes = 64 << 10

    init(source: InputSource, options: DecodeOptions, headerOnly: Bool = false) throws {
        path = source.name
        guard let file = source.takeFile() else { throw ImageIOError(path: path, message: "cannot read: no open file") }
        defer { fclose(file) }
        // The file's size, for the estimate (the compressed bytes are held whole when decoding).
        var fileSize = 0
        if fseek(file, 0, SEEK_END) == 0 { fileSize = max(0, ftell(file)) }
        rewind(file)
        let bytes = try Self.readAll(file, limit: headerOnly ? Self.headerBytes : nil, path: path)
        fileSize = max(fileSize, bytes.count)

        var features = WebPBitstreamFeatures()
        let status = bytes.withUnsafeBufferPointer { WebPGetFeatures($0.baseAddress, $0.count, &features) }
        guard status == VP8_STATUS_OK else {
            throw ImageIOError(path: path, message: "WebP header: \(Self.describe(status))")
        }
        width = Int(features.width)
        height = Int(features.height)
        hasAlpha = features.has_alpha != 0
        lossless = features.format == 2
        if features.has_animation != 0 {
            throw ImageIOError(path: path, message: "animated WebP is not supported: an animation is not one image; "
                               + "extract a frame first (webpmux -get frame 1 IN.webp -o frame.webp)", kind: .unsupported)
        }
        try ImageLimits.check(width: width, height: height, options: options, path: path)
        streamable = !lossless
        let pixels = lossless ? 4 * width * height : hasAlpha ? 2 * width * height : 0
        wholeImageBytes = fileSize + pixels
        try MemoryBudget.check(wholeImageBytes, budget: options.maxMemory, path: path,
                               what: "decoding this \(width)×\(height) WebP (its compressed bytes"
                                   + (lossless ? " and libwebp's lossless pixels" : hasAlpha ? " and alpha plane" : "")
                                   + " are held whole)")
        metadata = try Self.metadata(bytes, complete: !headerOnly, path: path)
        if headerOnly {
            data = []
            failed = true  // never started: no rows to read
            return
        }
        data = bytes
        decoder = try IncrementalDecoder(width: width, height: height, channels: hasAlpha ? 4 : 3, path: path)
    }

    /// Every byte of `file` (at most `limit`).
    private static func readAll(_ file: UnsafeMutablePointer<FILE>, limit: Int?, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while limit.map({ bytes.count < $0 }) ?? true {
            let want = min(chunk.count, (limit ?? Int.max) - bytes.count)
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, want, file) }
            bytes.append(contentsOf: chunk[0..<got])
            if got < want {
                if ferror(file) != 0 { throw ImageIOError(path: path, message: "cannot read: \(errnoText())") }
                break
            }
        }
        return bytes
    }

    /// ICC profile and EXIF from the container (libwebpdemux). `complete`: `bytes` is the whole
    /// file, which must then be a whole container (a truncated one is refused here, before any row).
    private static func metadata(_ bytes: [UInt8], complete: Bool, path: String) throws -> ImageMetadata {
        try bytes.withUnsafeBufferPointer { buffer in
            var webpData = WebPData(bytes: buffer.baseAddress, size: buffer.count)
            var state = WEBP_DEMUX_PARSING_HEADER
            guard let demux = WebPDemuxPartial(&webpData, &state) else {
                throw ImageIOError(path: path, message: "WebP container is corrupt (libwebpdemux cannot parse it)")
            }
            defer { WebPDemuxDelete(demux) }
            if complete && state != WEBP_DEMUX_DONE {
                let riffSize = Int(UInt32(buffer[4]) | UInt32(buffer[5]) << 8 | UInt32(buffer[6]) << 16 | UInt32(buffer[7]) << 24)
                throw ImageIOError(path: path, message: "WebP file is truncated or corrupt: its header announces "
                                   + "\(riffSize + 8) bytes, the file has \(buffer.count)")
            }
            var metadata = ImageMetadata()
            let flags = WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS)
            if flags & UInt32(ICCP_FLAG.rawValue) != 0 { metadata.iccProfile = chunk("ICCP", demux) }
            if flags & UInt32(EXIF_FLAG.rawValue) != 0, var exif = chunk("EXIF", demux) {
                // Some writers keep JPEG's "Exif\0\0" prefix; ImageMetadata holds the TIFF bytes.
                if exif.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) { exif.removeFirst(6) }
                metadata.exif = exif.isEmpty ? nil : exif
            }
            return metadata
        }
    }

    /// The payload of the first chunk named `fourcc`, or nil.
    private static func chunk(_ fourcc: String, _ demux: OpaquePointer) -> [UInt8]? {
        var iterator = WebPChunkIterator()
        guard WebPDemuxGetChunk(demux, fourcc, 1, &iterator) != 0 else { return nil }
        defer { WebPDemuxReleaseChunkIterator(&iterator) }
        guard let bytes = iterator.chunk.bytes, iterator.chunk.size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: bytes, count: iterator.chunk.size))
    }

    static func describe(_ status: VP8StatusCode) -> String {
        switch status {
        case VP8_STATUS_OUT_OF_MEMORY: return "out of memory"
        case VP8_STATUS_INVALID_PARAM: return "invalid parameter"
        case VP8_STATUS_BITSTREAM_ERROR: return "corrupt data (bitstream error)"
        case VP8_STATUS_UNSUPPORTED_FEATURE: return "a feature libwebp does not support"
        case VP8_STATUS_NOT_ENOUGH_DATA: return "the data ends early (file truncated?)"
        default: return "libwebp status \(status.rawValue)"
        }
    }

    private func fail(_ message: String) -> ImageIOError {
        failed = true
        decoder = nil
        return ImageIOError(path: path, message: message)
    }

    public func readBand(maxRows: Int) throws -> ImageBand? {
        guard !failed else {
            throw ImageIOError(path: path, message: "WebP reader already failed (or was opened for the header only)")
        }
        guard let rows = nextBandRows(maxRows: maxRows), let decoder else { return nil }
        let needed = rowsRead + rows
        do {
            try data.withUnsafeBufferPointer { try decoder.decode(until: needed, from: $0) }
        } catch let error as ImageIOError {
            throw fail(error.message)
        }
        let band = PixelPacking.deinterleave(decoder.rows(from: rowsRead), rows: rows, width: width,
                                             channels: decoder.channels, sampleBits: 8)
        decoder.release(below: needed)
        rowsRead = needed
        if rowsRead == height { self.decoder = nil }  // frees the decoder and the output mapping
        return band
    }
}

/// libwebp's incremental decoder writing into a mapping of the whole output (rows × stride bytes),
/// whose pages are given back as rows are consumed. Owns the WebPIDecoder and the mapping.
private final class IncrementalDecoder {
    let channels: Int
    private let height: Int
    private let stride: Int
    private let mapped: UnsafeMutableRawPointer    // (H, stride) bytes, MAP_NORESERVE
    private let mappedBytes: Int
    private let decoder: OpaquePointer
    private let path: String
    private var fed = 0              // bytes of the file handed to the decoder so far
    private var released = 0         // bytes at the start of the mapping given back (page multiple)
    private(set) var rowsReady = 0   // rows the decoder has finished (last_y)

    init(width: Int, height: Int, channels: Int, path: String) throws {
        self.channels = channels
        self.height = height
        self.path = path
        stride = width * channels
        mappedBytes = stride * height
        guard let mapping = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapping != MAP_FAILED else {
            throw ImageIOError(path: path, message: "cannot reserve \(mappedBytes) bytes of address space for the "
                               + "decoded rows: \(errnoText())")
        }
        mapped = mapping
        guard let decoder = WebPINewRGB(channels == 4 ? MODE_RGBA : MODE_RGB, mapped.assumingMemoryBound(to: UInt8.self),
                                        mappedBytes, Int32(stride)) else {
            munmap(mapping, mappedBytes)
            throw ImageIOError(path: path, message: "cannot initialise libwebp's decoder (out of memory?)")
        }
        self.decoder = decoder
    }

    deinit {
        WebPIDelete(decoder)
        munmap(mapped, mappedBytes)
    }

    /// Hands the decoder more of `file` until its first `rows` rows are final.
    func decode(until rows: Int, from file: UnsafeBufferPointer<UInt8>) throws {
        while rowsReady < rows {
            guard fed < file.count else {
                throw ImageIOError(path: path, message: "WebP data ends at row \(rowsReady) of \(height) (file truncated or corrupt)")
            }
            fed = min(file.count, fed + WebPRowReader.feedBytes)
            let status = WebPIUpdate(decoder, file.baseAddress, fed)
            guard status == VP8_STATUS_OK || status == VP8_STATUS_SUSPENDED else {
                throw ImageIOError(path: path, message: "WebP data at row \(rowsReady): \(WebPRowReader.describe(status))")
            }
            var lastY: Int32 = 0
            if WebPIDecGetRGB(decoder, &lastY, nil, nil, nil) != nil { rowsReady = max(rowsReady, Int(lastY)) }
            if status == VP8_STATUS_OK && rowsReady < height {
                throw ImageIOError(path: path, message: "WebP decoder stopped at row \(rowsReady) of \(height)")
            }
        }
    }

    /// The interleaved samples of row `row` and those after it.
    func rows(from row: Int) -> UnsafePointer<UInt8> {
        UnsafePointer(mapped.assumingMemoryBound(to: UInt8.self) + row * stride)
    }

    /// Gives back the whole pages of rows above `row`, which are read and will not be written again.
    func release(below row: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = row * stride / page * page
        guard end > released else { return }
        madvise(mapped + released, end - released, MADV_DONTNEED)
        released = end
    }
}
