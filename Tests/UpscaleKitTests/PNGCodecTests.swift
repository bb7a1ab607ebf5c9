// PNG decode of files written by libpng itself (every colour type, bit depth, palette ± tRNS,
// Adam7) against the sample values the test put in, and round trips through our encoder.
import CPNG
import Testing
@testable import UpscaleKit

/// One PNG variant: libpng colour type, bit depth, tRNS, interlacing.
struct PNGVariant: CustomStringConvertible, Sendable {
    var colorType: Int32
    var bitDepth: Int
    var trns = false
    var interlaced = false

    var description: String { "type \(colorType) depth \(bitDepth)\(trns ? " +tRNS" : "")\(interlaced ? " Adam7" : "")" }

    /// Stored samples per pixel.
    var storedChannels: Int {
        switch colorType {
        case PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_PALETTE: 1
        case PNG_COLOR_TYPE_GRAY_ALPHA: 2
        case PNG_COLOR_TYPE_RGB: 3
        default: 4
        }
    }
}

let pngVariants: [PNGVariant] = {
    var all: [PNGVariant] = []
    for depth in [1, 2, 4, 8, 16] { all.append(PNGVariant(colorType: PNG_COLOR_TYPE_GRAY, bitDepth: depth)) }
    for depth in [1, 2, 4, 8] {
        all.append(PNGVariant(colorType: PNG_COLOR_TYPE_PALETTE, bitDepth: depth))
        all.append(PNGVariant(colorType: PNG_COLOR_TYPE_PALETTE, bitDepth: depth, trns: true))
    }
    for type in [PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA] {
        for depth in [8, 16] { all.append(PNGVariant(colorType: type, bitDepth: depth)) }
    }
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_GRAY, bitDepth: 2, trns: true))
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_GRAY, bitDepth: 16, trns: true))
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_RGB, bitDepth: 8, trns: true))
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_RGB, bitDepth: 16, trns: true))
    for type in [PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_PALETTE] {
        all.append(PNGVariant(colorType: type, bitDepth: 4, trns: type == PNG_COLOR_TYPE_PALETTE, interlaced: true))
    }
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_RGB_ALPHA, bitDepth: 16, interlaced: true))
    all.append(PNGVariant(colorType: PNG_COLOR_TYPE_GRAY_ALPHA, bitDepth: 8, interlaced: true))
    return all
}()

/// A libpng-written fixture for `variant` and the planar values a correct decoder must produce.
func makeFixture(_ variant: PNGVariant, width: Int = 11, height: Int = 9) -> (PNGFixture, color: [Float], alpha: [Float]?) {
    var random = SeededSamples(seed: UInt64(variant.colorType) * 100 + UInt64(variant.bitDepth) * 3 + (variant.trns ? 1 : 0))
    let levels = 1 << variant.bitDepth
    let maxValue = Float(levels - 1)
    var fixture = PNGFixture(width: width, height: height, bitDepth: variant.bitDepth, colorType: variant.colorType,
                             interlaced: variant.interlaced)
    let channels = variant.storedChannels
    var samples = (0..<(width * height * channels)).map { _ in random.next(below: levels) }  // (H, W, channels)
    let plane = width * height
    var color: [Float]
    var alpha: [Float]? = nil
    if variant.colorType == PNG_COLOR_TYPE_PALETTE {
        let entries = levels
        fixture.palette = (0..<entries).map { _ in
            png_color(red: UInt8(random.next(below: 256)), green: UInt8(random.next(below: 256)), blue: UInt8(random.next(below: 256)))
        }
        if variant.trns { fixture.transAlpha = (0..<max(1, entries / 2)).map { _ in UInt8(random.next(below: 256)) } }
        color = [Float](repeating: 0, count: 3 * plane)
        if variant.trns { alpha = [Float](repeating: 1, count: plane) }
        for i in 0..<plane {
            let entry = fixture.palette[samples[i]]
            color[i] = Float(entry.red) / 255
            color[plane + i] = Float(entry.green) / 255
            color[2 * plane + i] = Float(entry.blue) / 255
            if samples[i] < fixture.transAlpha.count { alpha?[i] = Float(fixture.transAlpha[samples[i]]) / 255 }
        }
    } else {
        let colorChannels = channels >= 3 ? 3 : 1
        let storedAlpha = channels == 2 || channels == 4
        if variant.trns {
            // Make the transparent colour occur: pixel 0's colour is the key.
            var key = png_color_16()
            if colorChannels == 1 {
                key.gray = UInt16(samples[0])
            } else {
                (key.red, key.green, key.blue) = (UInt16(samples[0]), UInt16(samples[1]), UInt16(samples[2]))
                samples[3 * 5] = samples[0]; samples[3 * 5 + 1] = samples[1]; samples[3 * 5 + 2] = samples[2]
            }
            fixture.transColor = key
        }
        color = [Float](repeating: 0, count: colorChannels * plane)
        if storedAlpha || variant.trns { alpha = [Float](repeating: 1, count: plane) }
        for i in 0..<plane {
            for c in 0..<colorChannels { color[c * plane + i] = Float(samples[i * channels + c]) / maxValue }
            if storedAlpha { alpha?[i] = Float(samples[i * channels + colorChannels]) / maxValue }
            if variant.trns {
                let pixel = (0..<colorChannels).map { samples[i * channels + $0] }
                let key = (0..<colorChannels).map { samples[$0] }
                if pixel == key { alpha?[i] = 0 }
            }
        }
    }
    fixture.rows = PNGFixture.pack(samples, width: width, height: height, channels: channels, bitDepth: variant.bitDepth)
    return (fixture, color, alpha)
}

@Test(arguments: pngVariants)
func pngDecodeMatchesLibpngWrittenSamples(_ variant: PNGVariant) throws {
    let dir = ScratchDir("png")
    defer { dir.remove() }
    let (fixture, color, alpha) = makeFixture(variant)
    let path = dir.file("fixture.png")
    try fixture.write(to: path)

    let image = try ImageCodec.decode(path: path)
    #expect(image.width == fixture.width && image.height == fixture.height, "\(variant)")
    #expect(image.bitDepth == (variant.bitDepth == 16 ? 16 : 8), "\(variant)")
    let colorCheck = allClose(image.color.data, color, rtol: 0, atol: 1e-7)
    #expect(colorCheck.ok, "\(variant): colour max diff \(colorCheck.maxDiff)")
    #expect((image.alpha == nil) == (alpha == nil), "\(variant): alpha presence")
    if let decoded = image.alpha, let alpha {
        let alphaCheck = allClose(decoded.data, alpha, rtol: 0, atol: 1e-7)
        #expect(alphaCheck.ok, "\(variant): alpha max diff \(alphaCheck.maxDiff)")
    }

    let info = try ImageCodec.probe(path: path)
    #expect(info.format == .png && info.width == fixture.width && info.height == fixture.height)
    #expect(info.channels == image.channels + (image.alpha == nil ? 0 : 1))
    #expect(info.streamable == !variant.interlaced, "\(variant)")

    // Through our encoder and back: the same samples, bit depth, gray stays gray, alpha stays alpha.
    let bytes = try ImageCodec.encode(image, format: .png)
    let again = try ImageCodec.decode(bytes: bytes, name: "re-encoded \(variant)")
    #expect(again.color == image.color, "\(variant): re-encoded colour differs")
    #expect(again.alpha == image.alpha, "\(variant): re-encoded alpha differs")
    #expect(again.bitDepth == image.bitDepth)
}

@Test func pngEncoderQuantizesToNearestAndClamps() throws {
    // 8-bit: 0.5 → 127.5 → 128 (ties away from zero); 1.2 → 255; -0.3 → 0; NaN → 0; 0.2 → 51.
    let input: [Float] = [0.5, 1.2, -0.3, .nan, 0.2, 1.0 / 255 * 0.49]
    let image = RasterImage(color: Tensor(shape: [1, 1, 1, 6], data: input), alpha: nil)
    let back = try ImageCodec.decode(bytes: ImageCodec.encode(image, format: .png), name: "q8")
    #expect(back.color.data == [128, 255, 0, 0, 51, 0].map { Float($0) / 255 })
    // 16-bit: 0.5 → 32767.5 → 32768.
    var options = EncodeOptions()
    options.pngBitDepth = 16
    let back16 = try ImageCodec.decode(bytes: ImageCodec.encode(image, format: .png, options: options), name: "q16")
    #expect(back16.bitDepth == 16)
    #expect(back16.color.data == [32768, 65535, 0, 0, 13107, 126].map { Float($0) / 65535 })
}

@Test func pngSixteenBitInputCanBeWrittenAsEightBit() throws {
    let values: [Float] = [0, 1, 257, 65535, 32896].map { Float($0) / 65535 }
    let image = RasterImage(color: Tensor(shape: [1, 1, 1, 5], data: values), alpha: nil, bitDepth: 16)
    var options = EncodeOptions()
    options.pngBitDepth = 8
    let back = try ImageCodec.decode(bytes: ImageCodec.encode(image, format: .png, options: options), name: "to8")
    #expect(back.bitDepth == 8)
    #expect(back.color.data == [0, 0, 1, 255, 128].map { Float($0) / 255 })
}

/// A structurally valid ICC profile (header + empty tag table) of `size` bytes, for colour space `space`.
func iccProfile(size: Int, space: String) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    let put32 = { (at: Int, v: Int) in for k in 0..<4 { bytes[at + k] = UInt8((v >> (24 - 8 * k)) & 0xFF) } }
    let putText = { (at: Int, s: String) in for (k, b) in s.utf8.enumerated() { bytes[at + k] = b } }
    put32(0, size)
    put32(8, 0x0430_0000)        // version 4.3
    putText(12, "mntr")          // device class
    putText(16, space)           // "RGB " or "GRAY"
    putText(20, "XYZ ")          // PCS
    putText(36, "acsp")
    put32(68, 0x0000_F6D6); put32(72, 0x0001_0000); put32(76, 0x0000_D32D)  // D50 illuminant
    put32(128, 0)                // no tags
    for i in 132..<size { bytes[i] = UInt8(i % 251) }
    return bytes
}

@Test func pngKeepsICCProfileAndColourChunks() throws {
    let icc = iccProfile(size: 600, space: "RGB ")
    let color = Tensor(shape: [1, 3, 2, 2], data: (0..<12).map { Float($0) / 11 })
    let image = RasterImage(color: color, alpha: nil,
                            metadata: ImageMetadata(iccProfile: icc, iccName: "test profile", gamma: 0.45455))
    let back = try ImageCodec.decode(bytes: ImageCodec.encode(image, format: .png), name: "icc.png")
    #expect(back.metadata.iccProfile == icc)
    #expect(back.metadata.iccName == "test profile")
    #expect(back.metadata.gamma.map { abs($0 - 0.45455) < 1e-5 } == true)

    let srgb = RasterImage(color: color, alpha: nil, metadata: ImageMetadata(srgbIntent: 1))
    let backSRGB = try ImageCodec.decode(bytes: ImageCodec.encode(srgb, format: .png), name: "srgb.png")
    #expect(backSRGB.metadata.srgbIntent == 1)
    #expect(backSRGB.metadata.iccProfile == nil)
}

@Test func pngCompressionLevelChangesSizeNotPixels() throws {
    var random = SeededSamples(seed: 7)
    let data = (0..<(3 * 32 * 32)).map { i in Float((i / 3) % 17 + random.next(below: 2)) / 255 }
    let image = RasterImage(color: Tensor(shape: [1, 3, 32, 32], data: data), alpha: nil)
    var fast = EncodeOptions(); fast.pngEncoder = .zlib; fast.pngCompressionLevel = 0  // the level is zlib's
    var best = EncodeOptions(); best.pngEncoder = .zlib; best.pngCompressionLevel = 9
    let stored = try ImageCodec.encode(image, format: .png, options: fast)
    let small = try ImageCodec.encode(image, format: .png, options: best)
    #expect(stored.count > small.count)
    #expect(try ImageCodec.decode(bytes: stored, name: "l0").color == ImageCodec.decode(bytes: small, name: "l9").color)
    var bad = EncodeOptions(); bad.pngEncoder = .zlib; bad.pngCompressionLevel = 10
    #expect(throws: ImageIOError.self) { _ = try ImageCodec.encode(image, format: .png, options: bad) }
}

/// The library's defaults are the CLI's: `EncodeOptions()` writes PNG as `upscale` does (our fast
/// deflate encoder, not zlib), and `upscaleOutput` differs from it only in the JPEG Huffman choice
/// for outputs over `optimizedJPEGPixels`: the x2 output of a 1080p image (8.3 megapixels) gets
/// the standard tables (issue 28: optimizing them is a one-thread pass after the last row), the
/// x2 output of a 540p one (2.1 megapixels) optimized ones.
@Test func libraryEncodeDefaultsAreTheCLIs() {
    let library = EncodeOptions(), small = EncodeOptions.upscaleOutput(pixels: 1000)
    let huge = EncodeOptions.upscaleOutput(pixels: EncodeOptions.optimizedJPEGPixels + 1)
    #expect(library.pngEncoder == .fastDeflate && small.pngEncoder == .fastDeflate && huge.pngEncoder == .fastDeflate)
    #expect(library.jpegOptimizeHuffman && small.jpegOptimizeHuffman && !huge.jpegOptimizeHuffman)
    #expect(EncodeOptions.upscaleOutput(pixels: 1920 * 1080).jpegOptimizeHuffman)
    #expect(!EncodeOptions.upscaleOutput(pixels: 3840 * 2160).jpegOptimizeHuffman)
    #expect(DecodeOptions().maxMemory == MemoryBudget.defaultBytes)
}
