// Band reading and writing: bands of any height reassemble to exactly the whole-image result.
import CPNG
import Testing
@testable import UpscaleKit

/// Reads every band of `reader` (up to `rows` rows each) and stacks them: color (1, C, H, W), alpha.
func readAllBands(_ reader: any ImageRowReader, rows: Int) throws -> (color: [Float], alpha: [Float]?, bands: Int) {
    var planes = [[Float]](repeating: [], count: reader.colorChannels)  // (C) planes, rows appended
    var alpha: [Float]? = reader.hasAlpha ? [] : nil
    var bands = 0
    while let band = try reader.readBand(maxRows: rows) {
        #expect(band.color.shape == [1, reader.colorChannels, band.rows, reader.width])
        let plane = band.rows * reader.width
        for c in 0..<reader.colorChannels { planes[c] += band.color.data[(c * plane)..<((c + 1) * plane)] }
        if let a = band.alpha { alpha? += a.data }
        bands += 1
    }
    #expect(reader.rowsRead == reader.height)
    return (planes.flatMap { $0 }, alpha, bands)
}

@Test(arguments: [1, 3, 7, 100])
func pngBandsMatchWholeDecode(_ bandRows: Int) throws {
    let dir = ScratchDir("png-bands")
    defer { dir.remove() }
    for variant in [PNGVariant(colorType: PNG_COLOR_TYPE_RGB_ALPHA, bitDepth: 16),
                    PNGVariant(colorType: PNG_COLOR_TYPE_PALETTE, bitDepth: 2, trns: true),
                    PNGVariant(colorType: PNG_COLOR_TYPE_GRAY_ALPHA, bitDepth: 8, interlaced: true)] {
        let (fixture, color, alpha) = makeFixture(variant, width: 6, height: 10)
        let path = dir.file("f.png")
        try fixture.write(to: path)
        let reader = try ImageCodec.openReader(path: path)
        #expect(reader.streamable == !variant.interlaced)
        let (readColor, readAlpha, bands) = try readAllBands(reader, rows: bandRows)
        #expect(bands == (10 + bandRows - 1) / bandRows)
        #expect(allClose(readColor, color, rtol: 0, atol: 1e-7).ok, "\(variant) in bands of \(bandRows)")
        #expect(allClose(readAlpha ?? [], alpha ?? [], rtol: 0, atol: 1e-7).ok, "\(variant) alpha")
    }
}

@Test(arguments: [false, true])
func jpegBandsMatchWholeDecode(_ progressive: Bool) throws {
    var options = EncodeOptions()
    options.jpegProgressive = progressive
    options.jpegChroma = .yuv420
    let bytes = try ImageCodec.encode(RasterImage(color: smoothImage(height: 21, width: 13), alpha: nil),
                                      format: .jpeg, options: options)
    let whole = try ImageCodec.decode(bytes: bytes, name: "w.jpg")
    let reader = try ImageCodec.openReader(bytes: bytes, name: "b.jpg")
    let (color, alpha, bands) = try readAllBands(reader, rows: 4)
    #expect(bands == 6 && alpha == nil)
    #expect(color == whole.color.data)
}

@Test func pngRowWriterStreamsBandsToTheSameFileAsWholeEncode() throws {
    let dir = ScratchDir("png-writer")
    defer { dir.remove() }
    let (h, w) = (9, 5)
    var random = SeededSamples(seed: 9)
    let color = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { _ in Float(random.next(below: 65536)) / 65535 })
    let alpha = Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { _ in Float(random.next(below: 65536)) / 65535 })
    let image = RasterImage(color: color, alpha: alpha, bitDepth: 16)
    for (format, name) in [(ImageFormat.png, "s.png"), (.jpeg, "s.jpg")] {
        let writer = try ImageCodec.openWriter(path: dir.file(name), width: w, height: h, colorChannels: 3,
                                               hasAlpha: true, bitDepth: 16)
        for start in stride(from: 0, to: h, by: 4) {
            let rows = min(4, h - start)
            var bandColor: [Float] = []  // (3, rows, W)
            for c in 0..<3 {
                let from = c * h * w + start * w
                bandColor += color.data[from..<(from + rows * w)]
            }
            let bandAlpha = Array(alpha.data[(start * w)..<((start + rows) * w)])  // (rows, W)
            try writer.write(ImageBand(color: Tensor(shape: [1, 3, rows, w], data: bandColor),
                                       alpha: Tensor(shape: [1, 1, rows, w], data: bandAlpha)))
        }
        #expect(writer.rowsWritten == h)
        let notes = try writer.finish()
        #expect(notes.contains { $0.kind == .changedOutput && $0.text.contains("alpha composited onto #ffffff") } == (format == .jpeg))
        let whole = try ImageCodec.encode(image, format: format)
        #expect(readBytes(dir.file(name)) == whole, "\(format): banded and whole encodes differ")
    }
    #expect(try ImageCodec.decode(path: dir.file("s.png")).color == color)  // 16-bit samples survive exactly
}

/// Writer notes carry their kind from where they are made: libpng's own warning about
/// astronaut.png's ICC profile (a "known incorrect sRGB profile", written anyway) is a
/// `.libraryWarning`; alpha composited into a JPEG is a `.changedOutput`; a plain PNG has none.
@Test func writerNotesSayTheirKind() throws {
    let dir = ScratchDir("notes")
    defer { dir.remove() }
    let astronaut = try ImageCodec.decode(path: samplesDir + "/astronaut.png")
    #expect(astronaut.metadata.iccProfile != nil)
    let png = try ImageCodec.encode(astronaut, to: dir.file("a.png"))
    #expect(png.map(\.kind) == [.libraryWarning], "\(png)")
    #expect(png.first?.text.hasPrefix("libpng: ") == true && png.first?.text.contains("known incorrect sRGB profile") == true)
    let withAlpha = RasterImage(color: tinyImage.color, alpha: Tensor(shape: [1, 1, 2, 2], data: [1, 0.5, 0, 1]))
    let jpeg = try ImageCodec.encode(withAlpha, to: dir.file("a.jpg"))
    #expect(jpeg == [.changed("alpha composited onto #ffffff: JPEG has no alpha channel")])
    #expect(try ImageCodec.encode(tinyImage, to: dir.file("b.png")).isEmpty)
}
