import Foundation
import Testing
import UpscaleKit

/// Our PNG encoder (the default for `upscale`'s PNG outputs) on the shapes and input kinds the fuzz
/// corpus has (issue 28): each input upscaled twice, once written by our encoder and once by
/// libpng's own zlib (`--png-level 6`); libpng decodes both and the samples must be equal.
@Suite struct PNGEncoderShapeTests {
    /// A PNG of any colour type and depth, made here: filter 0, zlib stored blocks, `extra` chunks
    /// (PLTE, tRNS) before the image data. `rows`: each row's bytes as the PNG stores them.
    static func png(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]],
                    extra: [[UInt8]] = []) -> Data {
        var raw: [UInt8] = []
        for row in rows { raw += [0] + row }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            zlib += [offset + n == raw.count ? 1 : 0, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(b << 16 | a)
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += TinyPNG.chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [bitDepth, colorType, 0, 0, 0])
        for chunk in extra { file += chunk }
        file += TinyPNG.chunk("IDAT", zlib)
        file += TinyPNG.chunk("IEND", [])
        return Data(file)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// name, width, height, bit depth, colour type, bytes per pixel, extra chunks.
    static let kinds: [(String, Int, Int, UInt8, UInt8, Int, [[UInt8]])] = [
        ("1x1 rgb", 1, 1, 8, 2, 3, []),
        ("1xN rgb", 1, 37, 8, 2, 3, []),
        ("Nx1 rgba", 41, 1, 8, 6, 4, []),
        ("gray", 19, 13, 8, 0, 1, []),
        ("gray+alpha", 17, 11, 8, 4, 2, []),
        ("16-bit rgb", 13, 9, 16, 2, 6, []),
        ("16-bit rgba", 9, 14, 16, 6, 8, []),
        ("palette as rgb", 21, 12, 8, 3, 1, [TinyPNG.chunk("PLTE", (0..<48).map { UInt8($0 * 5) })]),
        ("palette with tRNS as rgba", 15, 16, 8, 3, 1,
         [TinyPNG.chunk("PLTE", (0..<48).map { UInt8(255 - $0 * 5) }), TinyPNG.chunk("tRNS", [0, 128, 255, 40])]),
    ]

    @Test(arguments: 0..<kinds.count)
    func ourPNGsDecodeToTheSamplesZlibsDo(kind k: Int) throws {
        let (name, width, height, bitDepth, colorType, pixelBytes, extra) = Self.kinds[k]
        var seed: UInt32 = 12345 &+ UInt32(k)
        func next() -> UInt8 { seed = seed &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: seed >> 16) }
        // Smooth ramps with some noise, palette indices below 16, so that matches, runs and literals all occur.
        var rows: [[UInt8]] = []
        for y in 0..<height {
            var row: [UInt8] = []
            for i in 0..<(width * pixelBytes) {
                if colorType == 3 {
                    row.append(UInt8((i / 3 + y) % 16))
                } else {
                    let ramp = UInt8(truncatingIfNeeded: i * 3 + y * 7)
                    row.append(ramp &+ (next() & 3))
                }
            }
            rows.append(row)
        }
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.png(width: width, height: height, bitDepth: bitDepth, colorType: colorType, rows: rows, extra: extra)
            .write(to: URL(fileURLWithPath: root + "/in.png"))
        for (output, options) in [("ours.png", [String]()), ("zlib.png", ["--png-level", "6"])] {
            let result = try CLI.run(["in.png", "-s", "2", "-o", output] + options, in: root)
            #expect(result.status == 0, "\(name): \(result.stderr)")
        }
        let ours = try Data(contentsOf: URL(fileURLWithPath: root + "/ours.png"))
        // Our encoder's zlib header (78 01), not libpng's: the file under test is ours.
        let idat = try #require(ours.range(of: Data("IDAT".utf8)), "\(name): no IDAT")
        #expect(Array(ours[idat.upperBound..<(idat.upperBound + 2)]) == [0x78, 0x01], "\(name): not our encoder's stream")
        let a = try ImageCodec.decode(path: root + "/ours.png")
        let b = try ImageCodec.decode(path: root + "/zlib.png")
        #expect(a.width == 2 * width && a.height == 2 * height, "\(name)")
        #expect(a.bitDepth == b.bitDepth && a.color.shape == b.color.shape && (a.alpha == nil) == (b.alpha == nil), "\(name)")
        #expect(a.color.data == b.color.data, "\(name): colour samples differ")
        #expect(a.alpha?.data == b.alpha?.data, "\(name): alpha samples differ")
    }
}
