import Foundation
import Testing
@testable import UpscaleKit

/// Set5 lies beside the checkout (../shared/datasets/val/Set5), as on developer machines and in CI.
let set5Folder: String = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.deletingLastPathComponent().appendingPathComponent("shared/datasets/val/Set5").path
}()

@Suite struct SuperResolutionEvalTests {
    /// The harness must reproduce the literature's bicubic baseline on Set5 (Y, shave = scale):
    /// 33.66 dB (×2), 30.39 (×3), 28.42 (×4), within ±0.05 dB.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: set5Folder), "needs ../shared/datasets/val/Set5"),
          arguments: [(2, 33.66), (3, 30.39), (4, 28.42)])
    func bicubicOnSet5MatchesLiterature(scale: Int, published: Double) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: set5Folder).filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count == 5)
        var total = 0.0
        for name in names {
            let hr = try ImageCodec.decode(path: set5Folder + "/" + name).color
            let score = try SuperResolutionEval.evaluate(hr: hr, scale: scale) { lr in
                Resize.bicubic(lr, height: lr.shape[2] * scale, width: lr.shape[3] * scale)
            }
            total += score.bicubicPSNR
        }
        let mean = total / Double(names.count)
        #expect(abs(mean - published) <= 0.05, "x\(scale) bicubic mean \(mean) dB, published \(published)")
    }

    /// `--degrade jpeg:Q` saves the LR as libjpeg does for Pillow (baseline, 4:2:0, standard tables):
    /// the decoded pixels equal those of Pillow's round trip of the same 32×24 image (fixtures made by
    /// Pillow 13 over libjpeg-turbo: `Image.save(quality=Q)`, then decoded), at qualities 30 and 75.
    @Test(arguments: [30, 75])
    func jpegRoundTripMatchesPillow(quality: Int) throws {
        let folder = Bundle.module.path(forResource: "Fixtures", ofType: nil)! + "/jpeg-roundtrip"
        let lr = try ImageCodec.decode(path: folder + "/lr.png").color
        let pillow = try ImageCodec.decode(path: folder + "/pillow-q\(quality).png").color
        let ours = try SuperResolutionEval.jpegRoundTrip(lr, quality: quality)
        #expect(ours.shape == pillow.shape)
        let worst = zip(ours.data, pillow.data).map { abs($0 - $1) * 255 }.max() ?? 0
        #expect(worst < 0.5, "largest difference \(worst) levels of 255")
        #expect(ours.data != lr.data, "the round trip changed nothing")
    }

    /// The degradation reaches both upscalers: bicubic from a JPEG-50 LR scores below bicubic from the
    /// clean LR, and `none`, `jpeg:Q` parse while anything else is refused.
    @Test func degradationReachesBothUpscalers() throws {
        let folder = Bundle.module.path(forResource: "Fixtures", ofType: nil)! + "/jpeg-roundtrip"
        let hr = try ImageCodec.decode(path: folder + "/lr.png").color   // 32×24 as the "HR" here
        let bicubic = { (lr: Tensor) in Resize.bicubic(lr, height: lr.shape[2] * 2, width: lr.shape[3] * 2) }
        let clean = try SuperResolutionEval.evaluate(hr: hr, scale: 2, upscale: bicubic)
        let jpeg = try SuperResolutionEval.evaluate(hr: hr, scale: 2, degradation: .jpeg(quality: 50), upscale: bicubic)
        #expect(jpeg.bicubicPSNR < clean.bicubicPSNR - 0.3)
        #expect(abs(jpeg.psnr - jpeg.bicubicPSNR) < 0.05)   // the "model" is bicubic too (unrounded)
        #expect(LowResolutionDegradation(argument: "jpeg:75") == .jpeg(quality: 75))
        #expect(LowResolutionDegradation(argument: "none") == LowResolutionDegradation.none)
        for bad in ["jpeg:0", "jpeg:101", "jpeg", "jpeg:", "png:50", "jpeg:7.5", ""] {
            #expect(LowResolutionDegradation(argument: bad) == nil, "\(bad) parsed")
        }
    }
}
