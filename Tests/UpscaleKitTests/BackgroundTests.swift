// Alpha onto a background for JPEG outputs (issue 15, item 13), against integer arithmetic:
// the 8-bit result of colour c, alpha a on background b is round((c·a + b·(255 − a)) / 255)
// (never a tie: 255 is odd), for every c and a.
import Testing
@testable import UpscaleKit

@Test(arguments: [Background.white, .black, Background(red: 64, green: 200, blue: 7)])
func compositeIsExactForEverySampleAndAlpha(_ background: Background) {
    let (h, w) = (256, 256)                 // row = colour sample, column = alpha sample
    let color = Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { PixelPacking.value8[$0 / w] })
    let alpha = Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { PixelPacking.value8[$0 % w] })
    let out = background.composite(ImageBand(color: color, alpha: alpha), outputChannels: 3)  // gray on RGB
    let bg = [background.red, background.green, background.blue].map(Int.init)
    var wrong: [String] = []
    for k in 0..<3 {
        for i in 0..<(h * w) {
            let (c, a) = (i / w, i % w)
            let expected = (2 * (c * a + bg[k] * (255 - a)) + 255) / 510   // round(x / 255), x ≥ 0
            let got = PixelPacking.quantize(out.data[k * h * w + i], maxValue: 255)
            if got != expected && wrong.count < 5 { wrong.append("channel \(k), c \(c), a \(a): \(got), expected \(expected)") }
        }
    }
    #expect(wrong.isEmpty, "\(background): \(wrong)")
}

@Test(arguments: [("white", Background.white), ("BLACK", .black), ("#3366cc", Background(red: 0x33, green: 0x66, blue: 0xCC)),
                  ("#36C", Background(red: 0x33, green: 0x66, blue: 0xCC)), ("#000000", .black)])
func backgroundsParse(_ text: String, _ expected: Background) {
    #expect(Background(parsing: text) == expected, "\(text)")
}

@Test(arguments: ["", "pink", "#12345", "#1234567", "#ggg", "3366cc", "# 36c", "#+12345"])
func badBackgroundsDoNotParse(_ text: String) {
    #expect(Background(parsing: text) == nil, "\(text)")
}

/// Fully transparent and fully opaque flat 8×8 blocks come back from libjpeg exactly: a gray
/// flat block is one DC coefficient, a multiple of the quantizer step, and Cb = Cr = 128.
@Test(arguments: [(Background.white, 255), (.black, 0), (Background(red: 64, green: 64, blue: 64), 64)])
func jpegShowsTheBackgroundUnderTransparentPixels(_ background: Background, _ value: Int) throws {
    let (h, w) = (8, 16)   // left block opaque red, right block transparent red
    let color = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { $0 < h * w ? 1 : 0 })
    let alpha = Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { $0 % w < 8 ? 1 : 0 })
    var options = EncodeOptions()
    options.background = background
    options.jpegQuality = 100
    let decoded = try ImageCodec.decode(bytes: ImageCodec.encode(RasterImage(color: color, alpha: alpha), format: .jpeg,
                                                                 options: options), name: "bg.jpg")
    #expect(decoded.channels == 3 && decoded.alpha == nil)
    for y in 0..<h {
        for x in 8..<w {
            #expect(pixel(decoded.color, y, x).map { PixelPacking.quantize($0, maxValue: 255) } == [value, value, value],
                    "(\(y), \(x)) on \(background)")
        }
    }
}

@Test func grayWithAlphaOnAColouredBackgroundBecomesRGB() throws {
    let gray = Tensor(shape: [1, 1, 8, 8], data: [Float](repeating: 0.5, count: 64))
    let alpha = Tensor(shape: [1, 1, 8, 8], data: [Float](repeating: 0, count: 64))
    var options = EncodeOptions()
    options.background = Background(red: 255, green: 0, blue: 0)
    let decoded = try ImageCodec.decode(bytes: ImageCodec.encode(RasterImage(color: gray, alpha: alpha), format: .jpeg,
                                                                 options: options), name: "la.jpg")
    #expect(decoded.channels == 3)
    let red = pixel(decoded.color, 4, 4).map { PixelPacking.quantize($0, maxValue: 255) }
    #expect(red[0] >= 250 && red[1] <= 5 && red[2] <= 5, "\(red)")   // lossy chroma: near, not exact
    options.background = Background(red: 30, green: 30, blue: 30)
    let onGray = try ImageCodec.decode(bytes: ImageCodec.encode(RasterImage(color: gray, alpha: alpha), format: .jpeg,
                                                                options: options), name: "la.jpg")
    #expect(onGray.channels == 1 && PixelPacking.quantize(pixel(onGray.color, 4, 4)[0], maxValue: 255) == 30)
}
