// The CLI's format round trips read by an independent decoder: Pillow (its own libpng/zlib,
// libjpeg-turbo and libwebp builds) decoded the outputs `upscale input.png -m x2 -o out_x2.EXT`
// wrote, and its samples are committed beside them (tools/make_roundtrip_fixtures.py). Our decoder
// must give exactly those samples for those files, and today's run must write those files (a PNG,
// lossless, need only decode to the same samples).
import Foundation
import Testing
import UpscaleKit

@Suite struct IndependentDecoderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("UpscaleKitTests/Fixtures/roundtrip").path

    /// 8-bit interleaved RGB samples (rows top to bottom), as Pillow's `tobytes()` lays them out.
    static func samples(_ image: RasterImage) -> [UInt8] {
        let (h, w) = (image.height, image.width)
        #expect(image.channels == 3 && image.alpha == nil && image.bitDepth == 8)
        var out = [UInt8](repeating: 0, count: h * w * 3)
        for c in 0..<3 {
            for i in 0..<(h * w) { out[i * 3 + c] = UInt8((image.color.data[c * h * w + i] * 255).rounded()) }
        }
        return out
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test(arguments: ["png", "jpg", "webp"])
    func outputsDecodeToPillowsSamples(format: String) throws {
        let name = "out_x2.\(format)"
        let pillow = try Self.bytes(Self.fixtures + "/" + name + ".rgb")
        let committed = Self.fixtures + "/" + name
        #expect(pillow.count == 24 * 16 * 3)
        // Our decoder on the very file Pillow decoded.
        #expect(Self.samples(try ImageCodec.decode(path: committed)) == pillow, "\(name): our decoder differs from Pillow's")

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/" + name
        let run = try CLI.run([Self.fixtures + "/input.png", "-m", "x2", "-o", output, "-j", "1", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        if format != "png" {
            #expect(try Self.bytes(output) == Self.bytes(committed),
                    "\(name): today's output is not the file Pillow decoded; if the change is meant, rerun tools/make_roundtrip_fixtures.py")
        }
        #expect(Self.samples(try ImageCodec.decode(path: output)) == pillow, "\(name): today's output decodes to other samples")
    }
}
