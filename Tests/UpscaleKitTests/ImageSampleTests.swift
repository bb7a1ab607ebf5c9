// The photos in samples/ decode to exactly the samples Pillow decodes: the FNV-1a 64 digest of
// every 8-bit sample in row-major, interleaved order (NumPy's `np.asarray(Image.open(f)).tobytes()`)
// equals the one Pillow 13.0.0 gives, so a wrong value, a swapped channel or a permuted row fails.
import Foundation
import Testing
@testable import UpscaleKit

let samplesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples").path

struct SampleExpectation: Sendable, CustomStringConvertible {
    var name: String
    var width: Int
    var height: Int
    var channels: Int
    var hasICC: Bool
    var pillowDigest: UInt64  // FNV-1a 64 of Pillow's samples (interleaved, row-major)
    var description: String { name }
}

let sampleExpectations = [
    SampleExpectation(name: "astronaut.png", width: 512, height: 512, channels: 3, hasICC: true, pillowDigest: 0xfa4e6bff08e5e8fb),
    SampleExpectation(name: "chelsea.png", width: 451, height: 300, channels: 3, hasICC: true, pillowDigest: 0xb2179687966157a8),
    SampleExpectation(name: "camera.png", width: 512, height: 512, channels: 1, hasICC: false, pillowDigest: 0x15fd86556e657c04),
    SampleExpectation(name: "coffee.jpg", width: 512, height: 400, channels: 3, hasICC: false, pillowDigest: 0xa7b6685606a6792f),
    SampleExpectation(name: "rocket.jpg", width: 512, height: 427, channels: 3, hasICC: false, pillowDigest: 0xb9c870ae4cf94a64),
]

@Test(arguments: sampleExpectations)
func samplePhotosDecode(_ sample: SampleExpectation) throws {
    let path = "\(samplesDir)/\(sample.name)"
    let image = try ImageCodec.decode(path: path)
    #expect(image.width == sample.width && image.height == sample.height && image.channels == sample.channels)
    #expect(image.alpha == nil && image.bitDepth == 8)
    #expect((image.metadata.iccProfile != nil) == sample.hasICC)
    // The tensor is (1, C, H, W); Pillow's bytes are (H, W, C).
    let (c, h, w) = (image.channels, image.height, image.width)
    var digest: UInt64 = 0xCBF2_9CE4_8422_2325
    for y in 0..<h {
        for x in 0..<w {
            for k in 0..<c {
                let sample = UInt8((image.color.data[(k * h + y) * w + x] * 255).rounded())
                digest = (digest ^ UInt64(sample)) &* 0x0000_0100_0000_01B3
            }
        }
    }
    #expect(digest == sample.pillowDigest, "digest \(String(digest, radix: 16))")
    let info = try ImageCodec.probe(path: path)
    #expect(info.width == sample.width && info.height == sample.height && info.streamable)
}
