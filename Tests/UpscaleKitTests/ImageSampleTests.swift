// The photos in samples/ decode; PNG samples match sums computed with Pillow + NumPy exactly,
// JPEG and (lossy) WebP samples match Pillow's mean sample closely.
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
    var sampleSum: Int?   // Σ of all 8-bit samples per Pillow (PNG only: lossless)
    var hasICC: Bool
    var pillowMean: Double  // mean 8-bit sample per Pillow (JPEG: another IDCT may differ slightly)
    var description: String { name }
}

let sampleExpectations = [
    SampleExpectation(name: "astronaut.png", width: 512, height: 512, channels: 3, sampleSum: 90_124_324, hasICC: true, pillowMean: 114.59900),
    SampleExpectation(name: "chelsea.png", width: 451, height: 300, channels: 3, sampleSum: 46_802_357, hasICC: true, pillowMean: 115.30514),
    SampleExpectation(name: "camera.png", width: 512, height: 512, channels: 1, sampleSum: 33_832_495, hasICC: false, pillowMean: 129.06073),
    SampleExpectation(name: "coffee.jpg", width: 512, height: 400, channels: 3, sampleSum: nil, hasICC: false, pillowMean: 96.08166),
    SampleExpectation(name: "rocket.jpg", width: 512, height: 427, channels: 3, sampleSum: nil, hasICC: false, pillowMean: 69.39572),
    SampleExpectation(name: "chelsea.webp", width: 451, height: 300, channels: 3, sampleSum: nil, hasICC: true, pillowMean: 115.32151),
]

@Test(arguments: sampleExpectations)
func samplePhotosDecode(_ sample: SampleExpectation) throws {
    let path = "\(samplesDir)/\(sample.name)"
    let image = try ImageCodec.decode(path: path)
    #expect(image.width == sample.width && image.height == sample.height && image.channels == sample.channels)
    #expect(image.alpha == nil && image.bitDepth == 8)
    #expect((image.metadata.iccProfile != nil) == sample.hasICC)
    if let expected = sample.sampleSum {
        let sum = image.color.data.reduce(0) { $0 + Int(($1 * 255).rounded()) }
        #expect(sum == expected)
    }
    let mean = image.color.data.reduce(0.0) { $0 + Double($1) } * 255 / Double(image.color.count)
    #expect(abs(mean - sample.pillowMean) < 0.05, "mean \(mean)")
    let info = try ImageCodec.probe(path: path)
    #expect(info.width == sample.width && info.height == sample.height && info.streamable)
}
