// JPEG: decode of files the tests encode (baseline, progressive, 4:2:0, gray), EXIF orientation
// 1–8 from a test-written APP1 segment, ICC profiles carried byte-exact.
import CJPEG
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import UpscaleKit

/// A smooth RGB test image (1, 3, H, W): JPEG reproduces it closely.
func smoothImage(height: Int, width: Int) -> Tensor {
    var data = [Float](repeating: 0, count: 3 * height * width)
    for y in 0..<height {
        for x in 0..<width {
            let i = y * width + x
            data[i] = Float(x) / Float(width - 1)
            data[height * width + i] = Float(y) / Float(height - 1)
            data[2 * height * width + i] = 0.5 + 0.3 * Float(x + y) / Float(width + height)
        }
    }
    return Tensor(shape: [1, 3, height, width], data: data)
}

@Test(arguments: [(JPEGChroma.yuv444, false), (.yuv444, true), (.yuv420, false), (.yuv420, true)])
func jpegDecodesWhatItEncodes(_ chroma: JPEGChroma, _ progressive: Bool) throws {
    let color = smoothImage(height: 24, width: 40)
    var options = EncodeOptions()
    options.jpegChroma = chroma
    options.jpegProgressive = progressive
    let bytes = try ImageCodec.encode(RasterImage(color: color, alpha: nil), format: .jpeg, options: options)
    #expect(ImageFormat.sniff(bytes) == .jpeg)

    // The frame header says what was asked: SOF2 for progressive, else SOF0 (baseline).
    let markers = JPEGBytes.segments(bytes).map(\.marker)
    #expect(markers.contains(progressive ? 0xC2 : 0xC0), "markers \(markers)")
    let sof = JPEGBytes.segments(bytes).first { $0.marker == 0xC0 || $0.marker == 0xC2 }!.offset
    #expect(bytes[sof + 9] == 3)  // components
    #expect(bytes[sof + 11] == (chroma == .yuv420 ? 0x22 : 0x11), "luma sampling factors")
    #expect(bytes[sof + 14] == 0x11 && bytes[sof + 17] == 0x11, "chroma sampling factors")

    let image = try ImageCodec.decode(bytes: bytes, name: "t.jpg")
    #expect(image.color.shape == [1, 3, 24, 40])
    #expect(image.alpha == nil && image.bitDepth == 8)
    let close = allClose(image.color.data, color.data, rtol: 0, atol: chroma == .yuv420 ? 0.05 : 0.03)
    #expect(close.ok, "max diff \(close.maxDiff)")

    let reader = try ImageCodec.openReader(bytes: bytes, name: "t.jpg")
    #expect(reader.streamable == !progressive)
}

@Test func jpegGrayStaysGray() throws {
    let gray = Tensor(shape: [1, 1, 16, 16], data: (0..<256).map { Float(($0 % 16) * 16) / 255 })
    let bytes = try ImageCodec.encode(RasterImage(color: gray, alpha: nil), format: .jpeg)
    let sof = JPEGBytes.segments(bytes).first { $0.marker == 0xC0 }!.offset
    #expect(bytes[sof + 9] == 1)
    let image = try ImageCodec.decode(bytes: bytes, name: "gray.jpg")
    #expect(image.color.shape == [1, 1, 16, 16])
    let close = allClose(image.color.data, gray.data, rtol: 0, atol: 0.03)
    #expect(close.ok, "max diff \(close.maxDiff)")
}

@Test func jpegQualityTradesSizeForError() throws {
    var random = SeededSamples(seed: 3)
    let noisy = Tensor(shape: [1, 3, 32, 32], data: (0..<(3 * 32 * 32)).map { _ in Float(random.next(below: 256)) / 255 })
    var low = EncodeOptions(); low.jpegQuality = 30
    var high = EncodeOptions(); high.jpegQuality = 98
    let small = try ImageCodec.encode(RasterImage(color: noisy, alpha: nil), format: .jpeg, options: low)
    let large = try ImageCodec.encode(RasterImage(color: noisy, alpha: nil), format: .jpeg, options: high)
    #expect(small.count < large.count)
    let errLow = allClose(try ImageCodec.decode(bytes: small, name: "q30").color.data, noisy.data).maxDiff
    let errHigh = allClose(try ImageCodec.decode(bytes: large, name: "q98").color.data, noisy.data).maxDiff
    #expect(errHigh < errLow)
    var bad = EncodeOptions(); bad.jpegQuality = 0
    #expect(throws: ImageIOError.self) { _ = try ImageCodec.encode(RasterImage(color: noisy, alpha: nil), format: .jpeg, options: bad) }
}

@Test func jpegCompositesAlphaWithANote() throws {
    let dir = ScratchDir("jpeg-alpha")
    defer { dir.remove() }
    let image = RasterImage(color: smoothImage(height: 8, width: 8),
                            alpha: Tensor(shape: [1, 1, 8, 8], data: [Float](repeating: 0.5, count: 64)))
    let notes = try ImageCodec.encode(image, to: dir.file("a.jpg"))
    #expect(notes.contains(.changed("alpha composited onto #ffffff: JPEG has no alpha channel")))
    #expect(try ImageCodec.decode(path: dir.file("a.jpg")).alpha == nil)
}

@Test func jpegCarriesICCProfileByteExactAcrossAPP2Markers() throws {
    // 70000 bytes: more than one APP2 marker holds (65519), so it must be split and reassembled.
    var random = SeededSamples(seed: 11)
    let icc = (0..<70000).map { _ in UInt8(random.next(below: 256)) }
    let image = RasterImage(color: smoothImage(height: 8, width: 8), alpha: nil, metadata: ImageMetadata(iccProfile: icc))
    let bytes = try ImageCodec.encode(image, format: .jpeg)
    let app2 = JPEGBytes.segments(bytes).filter { $0.marker == 0xE2 }
    #expect(app2.count == 2)
    let back = try ImageCodec.decode(bytes: bytes, name: "icc.jpg")
    #expect(back.metadata.iccProfile == icc)

    // And from JPEG to PNG: the profile goes into iCCP unchanged.
    let rgbICC = iccProfile(size: 300, space: "RGB ")
    let fromJPEG = try ImageCodec.decode(bytes: ImageCodec.encode(
        RasterImage(color: smoothImage(height: 8, width: 8), alpha: nil, metadata: ImageMetadata(iccProfile: rgbICC)),
        format: .jpeg), name: "p.jpg")
    let png = try ImageCodec.decode(bytes: ImageCodec.encode(fromJPEG, format: .png), name: "p.png")
    #expect(png.metadata.iccProfile == rgbICC)
}

// Six 8×8 blocks in a 2×3 grid, colours A…F; the EXIF orientation must display them as the
// tables below say (written from the EXIF definitions, not from the implementation).
let blockColors: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]  // A B C D E F
let displayedGrid: [Int: [[Int]]] = [
    1: [[0, 1, 2], [3, 4, 5]],
    2: [[2, 1, 0], [5, 4, 3]],          // mirrored left-right
    3: [[5, 4, 3], [2, 1, 0]],          // rotated 180°
    4: [[3, 4, 5], [0, 1, 2]],          // mirrored top-bottom
    5: [[0, 3], [1, 4], [2, 5]],        // transposed
    6: [[3, 0], [4, 1], [5, 2]],        // rotated 90° clockwise
    7: [[5, 2], [4, 1], [3, 0]],        // transverse
    8: [[2, 5], [1, 4], [0, 3]],        // rotated 90° counter-clockwise
]

func blockImage() -> Tensor {
    let (h, w) = (16, 24)
    var data = [Float](repeating: 0, count: 3 * h * w)
    for y in 0..<h {
        for x in 0..<w {
            let block = (y / 8) * 3 + x / 8
            for c in 0..<3 { data[c * h * w + y * w + x] = blockColors[block][c] }
        }
    }
    return Tensor(shape: [1, 3, h, w], data: data)
}

@Test(arguments: 1...8)
func jpegAppliesExifOrientation(_ orientation: Int) throws {
    var options = EncodeOptions()
    options.jpegQuality = 100
    let plain = try ImageCodec.encode(RasterImage(color: blockImage(), alpha: nil), format: .jpeg, options: options)
    for bigEndian in [false, true] {
        let bytes = JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: orientation, bigEndian: bigEndian), into: plain)
        let image = try ImageCodec.decode(bytes: bytes, name: "o\(orientation).jpg")
        let grid = displayedGrid[orientation]!
        #expect(image.height == grid.count * 8 && image.width == grid[0].count * 8)
        for (row, blocks) in grid.enumerated() {
            for (column, block) in blocks.enumerated() {
                let centre = pixel(image.color, row * 8 + 4, column * 8 + 4)
                let check = allClose(centre, blockColors[block], rtol: 0, atol: 0.06)
                #expect(check.ok, "orientation \(orientation) \(bigEndian ? "MM" : "II"): block (\(row), \(column)) is \(centre), expected \(blockColors[block])")
            }
        }
        let dir = ScratchDir("orientation")
        defer { dir.remove() }
        writeBytes(bytes, to: dir.file("o.jpg"))
        let info = try ImageCodec.probe(path: dir.file("o.jpg"))
        #expect(info.orientation == orientation)
        #expect(info.width == image.width && info.height == image.height)
        #expect(info.streamable == (orientation <= 2))  // 2, a left-right flip, streams

        var keep = DecodeOptions()
        keep.applyOrientation = false
        let stored = try ImageCodec.decode(bytes: bytes, name: "o.jpg", options: keep)
        #expect(stored.width == 24 && stored.height == 16)
    }
}

@Test func exifParserSurvivesMalformedSegments() {
    let good = Array(JPEGBytes.exifSegment(orientation: 6, bigEndian: true).dropFirst(4))
    #expect(ExifOrientation.parse(good) == 6)
    // Every truncation reads as "no orientation" or the right value, never a crash.
    for length in 0..<good.count {
        let value = ExifOrientation.parse(Array(good[0..<length]))
        #expect(value == 1 || value == 6)
    }
    // Every single-byte corruption yields a value in 1...8.
    for at in 0..<good.count {
        for flip: UInt8 in [0xFF, 0x80, 0x01] {
            var bad = good
            bad[at] ^= flip
            #expect((1...8).contains(ExifOrientation.parse(bad)))
        }
    }
    // Huge IFD offset and entry count pointing past the end.
    var far = good
    far[10] = 0x7F
    #expect(ExifOrientation.parse(far) == 1)
}

@Test func cmykJPEGIsRefusedWithAClearMessage() throws {
    // libjpeg writes the CMYK file (our encoder never does).
    let dir = ScratchDir("cmyk")
    defer { dir.remove() }
    let path = dir.file("cmyk.jpg")
    guard let file = fopen(path, "wb") else { Issue.record("cannot create \(path)"); return }
    guard let writer = cjpeg_writer_create(file) else { fclose(file); Issue.record("no libjpeg writer"); return }
    var params = cjpeg_write_params()
    (params.width, params.height, params.components, params.quality) = (8, 8, 4, 90)
    var samples = [UInt8](repeating: 128, count: 8 * 8 * 4)  // (8, 8, CMYK)
    let ok = samples.withUnsafeMutableBufferPointer { bytes -> Bool in
        var rows: [UnsafeMutablePointer<JSAMPLE>?] = (0..<8).map { bytes.baseAddress! + $0 * 32 }
        return cjpeg_start_compress(writer, &params) != 0 && cjpeg_write_rows(writer, &rows, 8) != 0
            && cjpeg_finish_compress(writer) != 0
    }
    cjpeg_writer_destroy(writer)
    fclose(file)
    #expect(ok)
    #expect { _ = try ImageCodec.decode(path: path) }
        throws: { ($0 as? ImageIOError)?.message.contains("CMYK JPEG is not supported") == true }
}
