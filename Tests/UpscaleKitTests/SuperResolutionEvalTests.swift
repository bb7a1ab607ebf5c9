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
            let score = SuperResolutionEval.evaluate(hr: hr, scale: scale) { lr in
                Resize.bicubic(lr, height: lr.shape[2] * scale, width: lr.shape[3] * scale)
            }
            total += score.bicubicPSNR
        }
        let mean = total / Double(names.count)
        #expect(abs(mean - published) <= 0.05, "x\(scale) bicubic mean \(mean) dB, published \(published)")
    }
}
