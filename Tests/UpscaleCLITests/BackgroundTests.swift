import Foundation
import Testing
import UpscaleKit

/// RGBA to JPEG (issue 15, item 13): transparent pixels show the background, white unless
/// `--background` says otherwise; the JPEG is read back by libjpeg.
@Suite struct JPEGBackgroundTests {
    /// 16×8 RGBA: the left 8 columns opaque gray 100, the right 8 fully transparent red.
    static func halfTransparent() throws -> [UInt8] {
        let (h, w) = (8, 16)
        var color = [Float](repeating: 0, count: 3 * h * w)
        var alpha = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                let opaque = x < 8
                alpha[y * w + x] = opaque ? 1 : 0
                for c in 0..<3 { color[c * h * w + y * w + x] = opaque ? 100 / 255 : (c == 0 ? 1 : 0) }
            }
        }
        return try ImageCodec.encode(RasterImage(color: Tensor(shape: [1, 3, h, w], data: color),
                                                 alpha: Tensor(shape: [1, 1, h, w], data: alpha)), format: .png)
    }

    @Test(arguments: [([String](), 255), (["--background", "black"], 0), (["--background", "#404040"], 64),
                      (["--background", "#444"], 68)])
    func transparentPixelsShowTheBackground(options: [String], value: Int) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TestModel.write(to: root + "/model.bin")
        try Data(Self.halfTransparent()).write(to: URL(fileURLWithPath: root + "/a.png"))
        for output in [["-o", "a.jpg"], ["-o", "-", "-f", "jpg"]] {
            let result = try CLI.run(["a.png", "-m", "model.bin"] + output + options, in: root)
            #expect(result.status == 0, "\(result.stderr)")
            if output[1] == "-" { try result.stdout.write(to: URL(fileURLWithPath: root + "/a.jpg")) }
            let (w, h, pixels) = try TestModel.decodeRGB8(root + "/a.jpg")
            #expect(w == 32 && h == 16)
            // Whole 8×8 blocks of the output away from the edge between the halves: flat, so exact.
            func rgb(_ y: Int, _ x: Int) -> [Int] {
                let at = (y * w + x) * 3
                return pixels[at..<(at + 3)].map(Int.init)
            }
            for y in 0..<h {
                for x in 0..<8 { #expect(rgb(y, x) == [100, 100, 100], "(\(y), \(x))") }
                for x in 24..<32 { #expect(rgb(y, x) == [value, value, value], "(\(y), \(x)) with \(options) \(output)") }
            }
            try FileManager.default.removeItem(atPath: root + "/a.jpg")
        }
    }

    @Test func pngOutputKeepsAlpha() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TestModel.write(to: root + "/model.bin")
        try Data(Self.halfTransparent()).write(to: URL(fileURLWithPath: root + "/a.png"))
        let result = try CLI.run(["a.png", "-m", "model.bin", "-o", "b.png", "--background", "black"], in: root)
        #expect(result.status == 0, "\(result.stderr)")
        let image = try ImageCodec.decode(path: root + "/b.png")
        #expect(image.alpha?.data.first == 1 && image.alpha?.data.last == 0)
        #expect(image.color.data.last == 0 && image.color.data[0] == Float(100) / 255)   // red's blue plane; gray
    }

    @Test(arguments: ["pink", "#12345", "ffffff"])
    func badColoursAreUsageErrors(colour: String) throws {
        let result = try CLI.run(["a.png", "--background", colour, "--dry-run"])
        #expect(result.status == 64 && result.stderr.contains("#rrggbb"), "\(result.stderr)")
    }
}
