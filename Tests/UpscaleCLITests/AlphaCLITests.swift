import Foundation
import Testing
import UpscaleKit

/// Transparent pixels' colour does not bleed into visible ones (issue 24, item 6): the issue's
/// 32×32 image, left half (0, 0, 0, 0), right half opaque white, through the built-in models.
@Suite struct AlphaFringeTests {
    static let n = 32

    static func halfTransparent() throws -> [UInt8] {
        var color = [Float](repeating: 0, count: 3 * n * n)
        var alpha = [Float](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in n / 2..<n {
                alpha[y * n + x] = 1
                for c in 0..<3 { color[c * n * n + y * n + x] = 1 }
            }
        }
        return try ImageCodec.encode(RasterImage(color: Tensor(shape: [1, 3, n, n], data: color),
                                                 alpha: Tensor(shape: [1, 1, n, n], data: alpha)), format: .png)
    }

    /// 8-bit alpha of output column x at `scale`: the Keys cubic (a = −0.5) weights of the opaque
    /// input columns 17…32 (1-based; the border mirrored), normalised, clamped and rounded.
    static func expectedAlpha(column x: Int, scale: Int) -> Int {
        func keys(_ x: Double) -> Double {
            let t = abs(x)
            if t <= 1 { return (1.5 * t - 2.5) * t * t + 1 }
            if t <= 2 { return ((-0.5 * t + 2.5) * t - 4) * t + 2 }
            return 0
        }
        let u = Double(x + 1) / Double(scale) + 0.5 * (1 - 1 / Double(scale))
        var (weights, opaque) = (0.0, 0.0)
        for j in Int(u) - 2...Int(u) + 2 {
            let k = keys(u - Double(j))
            weights += k
            if min(max(j, 1), n) > n / 2 { opaque += k }
        }
        return Int((min(max(opaque / weights, 0), 1) * 255).rounded())
    }

    @Test(arguments: [2, 3, 4])
    func noFringeInPNGAndJPEG(scale: Int) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data(Self.halfTransparent()).write(to: URL(fileURLWithPath: root + "/a.png"))
        let png = try CLI.run(["a.png", "-s", "\(scale)", "-o", "b.png"], in: root)
        #expect(png.status == 0, "\(png.stderr)")
        let jpeg = try CLI.run(["a.png", "-s", "\(scale)", "-o", "b.jpg", "--background", "white"], in: root)
        #expect(jpeg.status == 0, "\(jpeg.stderr)")
        // The network's output for an all-white opaque image is not flat white at the image border
        // (its zero padding): visible pixels must be what it gives there, so white inside.
        var white = [UInt8]()
        for _ in 0..<(Self.n * Self.n) { white += [255, 255, 255] }
        try TinyPNG.rgb(width: Self.n, height: Self.n, pixels: white).write(to: URL(fileURLWithPath: root + "/white.png"))
        let opaque = try CLI.run(["white.png", "-s", "\(scale)", "-o", "white_up.png"], in: root)
        #expect(opaque.status == 0, "\(opaque.stderr)")
        let (_, _, whiteUp) = try TestModel.decodeRGB8(root + "/white_up.png")
        let out = try ImageCodec.decode(path: root + "/b.png")
        let m = scale * Self.n
        let alpha = try #require(out.alpha).data
        func byte(_ v: Float) -> Int { Int((v * 255).rounded()) }
        let inner = (8 * scale)..<(m - 8 * scale)   // beyond the built-ins' halo of 8 input pixels
        for y in 0..<m {
            for x in 0..<m {
                let i = y * m + x
                let a = byte(alpha[i])
                #expect(a == Self.expectedAlpha(column: x, scale: scale), "x\(scale) alpha at (\(y), \(x))")
                let rgb = (0..<3).map { byte(out.color.data[$0 * m * m + i]) }
                let expected = a == 0 ? [0, 0, 0] : (0..<3).map { Int(whiteUp[3 * i + $0]) }
                // Visible: as opaque white, however transparent (no dark fringe); invisible: 0.
                #expect(rgb == expected, "x\(scale) colour at (\(y), \(x)) with alpha \(a)")
                if a > 0 && inner.contains(y) && inner.contains(x) { #expect(rgb == [255, 255, 255]) }
            }
        }
        // On a white background the image is white: no grey where the halves meet.
        let (w, h, pixels) = try TestModel.decodeRGB8(root + "/b.jpg")
        #expect(w == m && h == m)
        var darkest: UInt8 = 255
        for y in inner {
            for x in inner { darkest = min(darkest, pixels[(y * m + x) * 3]) }
        }
        #expect(darkest >= 254, "x\(scale): JPEG on white has grey \(darkest)")
    }
}
