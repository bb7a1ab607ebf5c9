// WebP: decode of files made by cwebp/webpmux/img2webp (Fixtures/webp, tools/make_resize_webp_fixtures.py)
// against their sources and dwebp's decodes; lossless round trips pixel-exact; lossy encodes within
// cwebp's PSNR; ICC and EXIF carried; animated, truncated and corrupt files refused.
import Foundation
import Testing
@testable import UpscaleKit

enum WebPFixtures {
    static func path(_ name: String) throws -> String {
        let folder = try #require(Bundle.module.path(forResource: "Fixtures", ofType: nil), "Fixtures not bundled")
        return "\(folder)/webp/\(name)"
    }

    static func bytes(_ name: String) throws -> [UInt8] { readBytes(try path(name)) }

    /// dwebp's colour PSNR of the lossy fixtures against their sources.
    static func dwebpPSNR(_ name: String) throws -> Double {
        let json = try JSONSerialization.jsonObject(with: Data(bytes("psnr.json"))) as? [String: Any]
        let table = try #require(json?["dwebpPSNR"] as? [String: Double])
        return try #require(table[name])
    }
}

/// 8-bit samples (C, H, W) of a decoded image, colour planes then alpha.
private func samples(_ image: RasterImage, alpha: Bool = true) -> [Int] {
    let color = image.color.data.map { Int(($0 * 255).rounded()) }
    guard alpha, let a = image.alpha else { return color }
    return color + a.data.map { Int(($0 * 255).rounded()) }
}

/// PSNR over the colour planes of two 8-bit images of one size (in 0…255 units, as the fixtures').
private func colorPSNR(_ a: RasterImage, _ b: RasterImage) -> Double {
    Quality.psnr(a.color.data.map { Double($0) * 255 }, b.color.data.map { Double($0) * 255 })
}

@Test func webpIsSniffedByItsBytesNotItsName() throws {
    #expect(ImageFormat.sniff(try WebPFixtures.bytes("lossy_rgb.webp")) == .webp)
    #expect(ImageFormat(pathExtension: "WEBP") == .webp)
    // A RIFF file of another form (a WAVE header) is not WebP.
    #expect(ImageFormat.sniff(Array("RIFF\u{24}\0\0\0WAVEfmt ".utf8)) == nil)
    // A .webp name holding a PNG is read as the PNG it is.
    let dir = ScratchDir("webp")
    defer { dir.remove() }
    let png = try ImageCodec.encode(RasterImage(color: smoothImage(height: 6, width: 5), alpha: nil), format: .png)
    writeBytes(png, to: dir.file("really-a-png.webp"))
    #expect(try ImageCodec.probe(path: dir.file("really-a-png.webp")).format == .png)
    #expect(try ImageCodec.decode(path: dir.file("really-a-png.webp")).width == 5)
}

@Test func losslessWebPFromCwebpDecodesToItsSource() throws {
    let image = try ImageCodec.decode(path: WebPFixtures.path("lossless_rgba.webp"))
    let source = try ImageCodec.decode(path: WebPFixtures.path("source_rgba.png"))
    #expect(image.width == 64 && image.height == 48 && image.alpha != nil)
    #expect(samples(image) == samples(source))
}

@Test(arguments: ["lossy_rgb", "lossy_rgba"])
func lossyWebPFromCwebpDecodesAsDwebpDoes(_ name: String) throws {
    let image = try ImageCodec.decode(path: WebPFixtures.path("\(name).webp"))
    let dwebp = try ImageCodec.decode(path: WebPFixtures.path("\(name)_dwebp.png"))
    #expect((image.alpha != nil) == name.hasSuffix("rgba"))
    // The same libwebp decoder: equal here; a little slack for another libwebp's chroma upsampling.
    let maxDiff = zip(samples(image), samples(dwebp)).map { abs($0 - $1) }.max() ?? 0
    #expect(maxDiff <= 2, "max difference from dwebp \(maxDiff)")
    #expect(colorPSNR(image, dwebp) >= 50)
}

@Test func lossyWebPEncodeIsAsGoodAsCwebpAtItsDefaultQuality() throws {
    let source = try ImageCodec.decode(path: WebPFixtures.path("source_rgb.png"))
    var options = EncodeOptions()
    #expect(options.webpQuality == 75)  // cwebp's default
    let bytes = try ImageCodec.encode(source, format: .webp, options: options)
    let decoded = try ImageCodec.decode(bytes: bytes, name: "ours.webp")
    let psnr = colorPSNR(decoded, source)
    let cwebp = try WebPFixtures.dwebpPSNR("lossy_rgb")
    #expect(psnr >= cwebp - 0.5, "ours \(psnr) dB, cwebp -q 75 \(cwebp) dB")
    #expect(psnr < 60, "a lossy file should lose something (\(psnr) dB)")
    // A lower quality gives a smaller file and a lower PSNR.
    options.webpQuality = 20
    let small = try ImageCodec.encode(source, format: .webp, options: options)
    #expect(small.count < bytes.count)
    #expect(colorPSNR(try ImageCodec.decode(bytes: small, name: "q20.webp"), source) < psnr)
}

@Test(arguments: [false, true])
func losslessWebPRoundTripIsPixelExact(_ withAlpha: Bool) throws {
    var random = SeededRandom(seed: withAlpha ? 7 : 8)
    let (h, w) = (19, 23)
    let color = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { _ in Float(Int.random(in: 0...255, using: &random)) / 255 })
    // Alpha with fully transparent pixels: their colour is kept too (exact).
    let alpha = withAlpha ? Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { k in k % 5 == 0 ? 0 : Float(k % 256) / 255 }) : nil
    let image = RasterImage(color: color, alpha: alpha)
    var options = EncodeOptions()
    options.webpLossless = true
    let bytes = try ImageCodec.encode(image, format: .webp, options: options)
    let back = try ImageCodec.decode(bytes: bytes, name: "lossless.webp")
    #expect(samples(back) == samples(image))
    #expect((back.alpha != nil) == withAlpha)
    // Gray images are written as RGB: each plane equal to the gray one.
    let gray = RasterImage(color: Tensor(shape: [1, 1, h, w], data: Array(color.data[0..<(h * w)])), alpha: nil)
    let grayBack = try ImageCodec.decode(bytes: ImageCodec.encode(gray, format: .webp, options: options), name: "gray.webp")
    #expect(samples(grayBack) == samples(gray) + samples(gray) + samples(gray))
}

@Test func webpMetadataIsReadAndWritten() throws {
    let icc = try WebPFixtures.bytes("metadata.icc"), exif = try WebPFixtures.bytes("metadata.exif")
    let image = try ImageCodec.decode(path: WebPFixtures.path("metadata.webp"))
    #expect(image.metadata.iccProfile == icc)
    #expect(image.metadata.exif == exif)
    // Written back: lossy and lossless, and read again byte for byte.
    for lossless in [false, true] {
        var options = EncodeOptions()
        options.webpLossless = lossless
        let bytes = try ImageCodec.encode(image, format: .webp, options: options)
        let again = try ImageCodec.decode(bytes: bytes, name: "again.webp")
        #expect(again.metadata.iccProfile == icc && again.metadata.exif == exif)
    }
}

@Test func animatedWebPIsRefused() throws {
    #expect {
        _ = try ImageCodec.probe(path: WebPFixtures.path("animated.webp"))
    } throws: { error in
        guard let error = error as? ImageIOError else { return false }
        return error.kind == .unsupported && error.message.contains("animated WebP")
    }
}

@Test func truncatedAndCorruptWebPAreRefused() throws {
    for name in ["lossy_rgba.webp", "lossless_rgba.webp"] {
        let bytes = try WebPFixtures.bytes(name)
        for cut in [12, 30, bytes.count / 2, bytes.count - 1] {
            #expect(throws: ImageIOError.self, "\(name) cut at \(cut)") {
                _ = try ImageCodec.decode(bytes: Array(bytes[0..<cut]), name: "cut.webp")
            }
        }
        // A lossless bitstream overwritten with a pattern, a lossy frame whose start code is
        // damaged: refused (lossy residuals carry no check: damaged ones decode to other pixels).
        var corrupt = bytes
        if name.hasPrefix("lossless") {
            for k in (bytes.count / 3)..<bytes.count { corrupt[k] = UInt8(truncatingIfNeeded: k &* 151) }
        } else {
            let vp8 = try #require((0..<(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual("VP8 ".utf8) })
            corrupt[vp8 + 11] ^= 0xFF  // the 0x9d 0x01 0x2a start code after the 3-byte frame tag
        }
        do {
            _ = try ImageCodec.decode(bytes: corrupt, name: "corrupt.webp")
            Issue.record("\(name) with its data overwritten was decoded")
        } catch let error as ImageIOError {
            #expect(error.path == "corrupt.webp")
        }
    }
}

@Test func webpOutputSizeIsCheckedBeforeAnythingIsWritten() throws {
    #expect(throws: Never.self) { try WebPRowWriter.checkSize(width: 16383, height: 16383, path: "big.webp") }
    #expect {
        try WebPRowWriter.checkSize(width: 16384, height: 10, path: "big.webp")
    } throws: { error in
        (error as? ImageIOError)?.message.contains("write PNG instead") == true
    }
}

@Test func webpDecodesInBandsAsItDoesWhole() throws {
    // Band by band (the streaming path) equals the whole decode, for every band height.
    let path = try WebPFixtures.path("lossless_rgba.webp")
    let whole = try ImageCodec.decode(path: path)
    for bandRows in [1, 5, 16, 48] {
        let reader = try ImageCodec.openStreamReader(path: path)
        var color: [[Float]] = [[], [], []], alpha: [Float] = []
        while let band = try reader.readBand(maxRows: bandRows) {
            let plane = band.rows * 64
            for c in 0..<3 { color[c] += band.color.data[(c * plane)..<((c + 1) * plane)] }
            alpha += band.alpha!.data
        }
        #expect(color.flatMap { $0 } == whole.color.data && alpha == whole.alpha!.data, "bands of \(bandRows)")
    }
}

@Test func webpProbeCountsWhatLibwebpHoldsWhole() throws {
    // Lossy RGB streams (only its compressed bytes are held); lossless keeps 4 bytes per pixel,
    // lossy with alpha 2: the estimate counts them, the budget refuses them.
    let (lossyBytes, losslessBytes, alphaBytes) = (try WebPFixtures.bytes("lossy_rgb.webp").count,
        try WebPFixtures.bytes("lossless_rgba.webp").count, try WebPFixtures.bytes("lossy_rgba.webp").count)
    let lossy = try ImageCodec.probe(path: WebPFixtures.path("lossy_rgb.webp"))
    #expect(lossy.streamable && lossy.wholeImageBytes == lossyBytes)
    let lossless = try ImageCodec.probe(path: WebPFixtures.path("lossless_rgba.webp"))
    #expect(!lossless.streamable && lossless.channels == 4)
    #expect(lossless.wholeImageBytes == losslessBytes + 4 * 64 * 48)
    let alpha = try ImageCodec.probe(path: WebPFixtures.path("lossy_rgba.webp"))
    #expect(alpha.wholeImageBytes == alphaBytes + 2 * 64 * 48)
    var options = DecodeOptions()
    options.maxMemory = 4 * 64 * 48
    #expect {
        _ = try ImageCodec.probe(path: WebPFixtures.path("lossless_rgba.webp"), options: options)
    } throws: { ($0 as? ImageIOError)?.kind == .overMemoryBudget }
}
