// PNG band writer over libpng's row API (through the cpng_* setjmp shims): libpng's zlib or our
// fast deflate (Deflate/) for the image data; text, ICC, EXIF and density chunks.
import CPNG
#if canImport(Glibc)
import Glibc
#endif

/// Writes a non-interlaced PNG in bands: gray, gray+alpha, RGB or RGBA at 8 or 16 bits.
public final class PNGRowWriter: ImageRowWriter {
    public let width: Int
    public let height: Int
    public let colorChannels: Int
    public let hasAlpha: Bool
    public let bitDepth: Int
    public var rowsWritten: Int { output.rowsWritten }

    private let output: RowWriterOutput<cpng_writer>
    private var writer: UnsafeMutablePointer<cpng_writer> { output.pointer }
    private var notes: [String]
    /// The image data's compressor when it is ours (PNGEncoder.fastDeflate); nil: libpng's zlib.
    private var deflate: FastDeflateEncoder?
    private var idatPending: [UInt8] = []   // compressed bytes not yet in an IDAT chunk
    static let idatBytes = 1 << 20

    init(sink: OutputSink, width: Int, height: Int, colorChannels: Int, hasAlpha: Bool, bitDepth: Int,
         metadata: ImageMetadata, encoder: PNGEncoder = .zlib, compressionLevel: Int,
         filters: PNGRowFilters = .adaptive, threads: Int = 1, notes: [String] = []) throws {
        // A throw from here on drops `output` unfinished, which discards the sink.
        let output = try RowWriterOutput(sink: sink, format: "PNG", height: height,
                                         create: cpng_writer_create, destroy: cpng_writer_destroy)
        let path = sink.name
        guard colorChannels == 1 || colorChannels == 3 else {
            throw ImageIOError(path: path, message: "PNG output needs 1 or 3 colour channels, got \(colorChannels)")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImageIOError(path: path, message: "PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
        guard (0...9).contains(compressionLevel) else {
            throw ImageIOError(path: path, message: "PNG compression level must be 0...9, got \(compressionLevel)")
        }
        guard (1...Int(UInt32.max >> 1)).contains(width), (1...Int(UInt32.max >> 1)).contains(height) else {
            throw ImageIOError(path: path, message: "cannot write a \(width)×\(height) image")
        }
        self.width = width
        self.height = height
        self.colorChannels = colorChannels
        self.hasAlpha = hasAlpha
        self.bitDepth = bitDepth
        self.notes = notes
        self.output = output
        if encoder == .fastDeflate {
            let pixelBytes = (colorChannels + (hasAlpha ? 1 : 0)) * bitDepth / 8
            deflate = FastDeflateEncoder(rowBytes: width * pixelBytes, bytesPerPixel: pixelBytes, threads: threads)
        }
        let colorType: Int32 = switch (colorChannels, hasAlpha) {
        case (1, false): PNG_COLOR_TYPE_GRAY
        case (1, true): PNG_COLOR_TYPE_GRAY_ALPHA
        case (_, false): PNG_COLOR_TYPE_RGB
        default: PNG_COLOR_TYPE_RGB_ALPHA
        }
        let icc = metadata.iccProfile ?? []
        // eXIf must hold TIFF bytes; anything else is left out.
        let exif = metadata.exif.flatMap { $0.count >= 8 && ($0[0..<2] == [0x49, 0x49] || $0[0..<2] == [0x4D, 0x4D]) ? $0 : nil } ?? []
        let density = metadata.density?.perMeter
        let texts = PNGTextChunks(metadata.text)
        let writer = output.pointer
        let ok = icc.withUnsafeBufferPointer { iccBytes in
            exif.withUnsafeBufferPointer { exifBytes in
            texts.chunks.withUnsafeBufferPointer { textChunks in
            (metadata.iccName ?? "").withCString { iccName in
                var params = cpng_write_params()
                params.width = png_uint_32(width)
                params.height = png_uint_32(height)
                params.bit_depth = Int32(bitDepth)
                params.color_type = colorType
                params.compression_level = Int32(compressionLevel)
                params.filters = switch filters {
                case .adaptive: 0
                case .none: Int32(PNG_FILTER_NONE)
                case .sub: Int32(PNG_FILTER_SUB)
                case .up: Int32(PNG_FILTER_UP)
                case .average: Int32(PNG_FILTER_AVG)
                case .paeth: Int32(PNG_FILTER_PAETH)
                }
                params.icc = icc.isEmpty ? nil : iccBytes.baseAddress
                params.icc_length = png_uint_32(icc.count)
                params.icc_name = iccName
                params.srgb_intent = Int32(metadata.srgbIntent ?? -1)
                params.gamma = metadata.gamma ?? 0
                params.text = textChunks.baseAddress
                params.num_text = Int32(textChunks.count)
                params.exif = exif.isEmpty ? nil : exifBytes.baseAddress
                params.exif_length = png_uint_32(exif.count)
                if let density, (1...Int(Int32.max)).contains(density.x), (1...Int(Int32.max)).contains(density.y) {
                    params.has_phys = 1
                    params.phys_x = png_uint_32(density.x)
                    params.phys_y = png_uint_32(density.y)
                    params.phys_unit = density.unit == .meter ? PNG_RESOLUTION_METER : PNG_RESOLUTION_UNKNOWN
                }
                return cpng_write_header(writer, &params) != 0
            }
            }
            }
        }
        guard ok else { throw ImageIOError(path: path, message: "PNG header: \(output.message)") }
    }

    public func write(_ band: ImageBand) throws {
        try output.checkOpen()
        try BandCheck.validate(band, width: width, colorChannels: colorChannels, alphaNeeded: hasAlpha,
                               rowsLeft: output.rowsLeft, path: output.path)
        guard band.rows > 0 else { return }
        let layout = PackedRowLayout(sampleBits: bitDepth, colorChannels: colorChannels, withAlpha: hasAlpha)
        try writeRows(PixelPacking.interleaved(band, withAlpha: hasAlpha, sampleBits: bitDepth,
                                               rowBytes: layout.rowBytes(width: width)), rows: band.rows)
    }

    public var packedLayout: PackedRowLayout? {
        PackedRowLayout(sampleBits: bitDepth, colorChannels: colorChannels, withAlpha: hasAlpha)
    }

    public func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws {
        try output.checkOpen()
        try output.checkPacked(byteCount: bytes.count, rows: rows, rowBytes: packedLayout!.rowBytes(width: width))
        guard rows > 0 else { return }
        try writeRows(bytes, rows: rows, workers: threads)
    }

    /// `rows` rows of samples as the PNG stores them (`rows × rowBytes` bytes), filtered and compressed.
    /// Packed rows come from the upscale loop, whose tile workers use the run's threads meanwhile:
    /// their deflate blocks are coded on the writer's thread alone (`workers` 1), so that the
    /// encoder adds one busy thread to `-j N`, not N; the last band's on up to `workers` threads.
    private func writeRows(_ samples: [UInt8], rows: Int, workers: Int = .max) throws {
        guard let deflate else {
            return try output.writeRows(samples, rows: rows, orFail: "PNG write") { cpng_write_rows(writer, &$0, png_uint_32(rows)) != 0 }
        }
        let ok = deflate.append(rows: samples, rowCount: rows, workers: workers) { writeImageData($0) }
        try output.addRows(rows, ifWritten: ok, orFail: "PNG write")
    }

    /// Our compressed image data, as IDAT chunks of `idatBytes` each (the last one shorter, at
    /// `last`): chunk boundaries, like the stream itself, do not depend on the bands. Whole chunks
    /// are written straight from `data`; only a chunk's unfinished start waits in `idatPending`.
    private func writeImageData(_ data: UnsafeBufferPointer<UInt8>, last: Bool = false) -> Bool {
        func chunk(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool { cpng_write_chunk(writer, "IDAT", p, count) != 0 }
        var used = 0
        if !idatPending.isEmpty {
            used = min(Self.idatBytes - idatPending.count, data.count)
            idatPending.append(contentsOf: UnsafeBufferPointer(rebasing: data[0..<used]))
            if idatPending.count == Self.idatBytes || last {
                guard idatPending.withUnsafeBufferPointer({ chunk($0.baseAddress!, $0.count) }) else { return false }
                idatPending.removeAll(keepingCapacity: true)
            }
        }
        while data.count - used >= Self.idatBytes || (last && used < data.count) {
            let count = min(Self.idatBytes, data.count - used)
            guard chunk(data.baseAddress! + used, count) else { return false }
            used += count
        }
        idatPending.append(contentsOf: UnsafeBufferPointer(rebasing: data[used...]))
        return true
    }

    public func finish() throws -> [WriterNote] {
        let warnings = try output.finish(orFail: "PNG end") {
            guard let deflate else { return cpng_write_end(writer) != 0 }
            return deflate.finish { writeImageData($0, last: true) } && cpng_write_chunk(writer, "IEND", nil, 0) != 0
        }
        return notes.map(WriterNote.changed) + warnings
    }

    public func abort() { output.abort() }
}

/// PNG text chunks between libpng's `png_text` and `PNGText`. For writing, the C strings are
/// copies owned by this object (freed in deinit), valid while it lives.
final class PNGTextChunks {
    private(set) var chunks: [png_text] = []
    private var strings: [UnsafeMutablePointer<CChar>] = []

    init(_ texts: [PNGText]) {
        for t in texts {
            let latin1 = t.chunk == .tEXt || t.chunk == .zTXt
            var chunk = png_text()
            chunk.compression = switch t.chunk {
            case .tEXt: PNG_TEXT_COMPRESSION_NONE
            case .zTXt: PNG_TEXT_COMPRESSION_zTXt
            case .iTXt: PNG_ITXT_COMPRESSION_NONE
            case .iTXtCompressed: PNG_ITXT_COMPRESSION_zTXt
            }
            chunk.key = copy(Self.latin1Bytes(t.keyword))
            let text = latin1 ? Self.latin1Bytes(t.text) : Array(t.text.utf8)
            chunk.text = copy(text)
            if latin1 { chunk.text_length = text.count } else { chunk.itxt_length = text.count }
            if !latin1 {
                chunk.lang = copy(Self.latin1Bytes(t.language))
                chunk.lang_key = copy(Array(t.translatedKeyword.utf8))
            }
            chunks.append(chunk)
        }
    }

    deinit { strings.forEach { $0.deallocate() } }

    /// A NUL-terminated copy of `bytes`, freed with this object.
    private func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        strings.append(p)
        return p
    }

    /// A chunk libpng read, or nil when its key is missing.
    static func text(_ chunk: png_text) -> PNGText? {
        guard let key = chunk.key else { return nil }
        func bytes(_ p: UnsafeMutablePointer<CChar>?, _ count: Int?) -> [UInt8] {
            guard let p else { return [] }
            let n = count ?? strlen(p)
            return UnsafeRawBufferPointer(start: p, count: n).map { $0 }
        }
        let kind: PNGText.Chunk = switch chunk.compression {
        case PNG_TEXT_COMPRESSION_zTXt: .zTXt
        case PNG_ITXT_COMPRESSION_NONE: .iTXt
        case PNG_ITXT_COMPRESSION_zTXt: .iTXtCompressed
        default: .tEXt
        }
        let latin1 = kind == .tEXt || kind == .zTXt
        let text = bytes(chunk.text, latin1 ? chunk.text_length : chunk.itxt_length)
        return PNGText(kind, keyword: latin1String(bytes(key, nil)),
                       text: latin1 ? latin1String(text) : String(decoding: text, as: UTF8.self),
                       language: latin1String(bytes(chunk.lang, nil)),
                       translatedKeyword: String(decoding: bytes(chunk.lang_key, nil), as: UTF8.self))
    }

    /// Latin-1: each byte is the Unicode scalar of its value, and back (other characters as "?").
    static func latin1String(_ bytes: [UInt8]) -> String { String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }
    static func latin1Bytes(_ text: String) -> [UInt8] { text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : 0x3F } }
}
