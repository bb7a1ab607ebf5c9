import Foundation
import Testing
@testable import UpscaleKit

@Suite struct QualityTests {
    @Test func psnrOfKnownError() {
        // Every pixel off by 5: MSE = 25, PSNR = 10·log10(65025/25) = 34.1514 dB.
        let a = [Double](repeating: 100, count: 64), b = [Double](repeating: 105, count: 64)
        #expect(abs(Quality.psnr(a, b) - 34.151403521) < 1e-6)
        #expect(Quality.psnr(a, a) == .infinity)
    }

    @Test func ssimOfIdenticalAndShiftedPlanes() {
        let (h, w) = (16, 16)
        let a = (0..<(h * w)).map { Double(($0 * 37) % 251) }
        #expect(abs(Quality.ssim(a, a, height: h, width: w) - 1) < 1e-12)
        // A constant offset δ leaves variances/covariance unchanged: SSIM = luminance term only,
        // (2μa(μa+δ) + C1) / (μa² + (μa+δ)² + C1) per window, so strictly below 1.
        let shifted = a.map { $0 + 20 }
        let s = Quality.ssim(a, shifted, height: h, width: w)
        #expect(s < 1 && s > 0.9)
    }

    @Test func gaussianWindowIsNormalisedAndSymmetric() {
        let g = Quality.gaussianWindow(size: 11, sigma: 1.5)
        #expect(abs(g.reduce(0, +) - 1) < 1e-12)
        #expect(g[0] == g[120] && g[5] == g[55])
    }

    @Test func degradeCropsToMultipleOfScale() {
        let hr = Tensor(shape: [1, 3, 11, 13], data: (0..<(3 * 11 * 13)).map { Float($0 % 256) / 255 })
        let (cropped, lr) = SuperResolutionEval.degrade(hr, scale: 3)
        #expect(cropped.shape == [1, 3, 9, 12] && lr.shape == [1, 3, 3, 4])
        #expect(cropped.data[12] == hr.data[13])  // second row starts at the original's second row
    }
}
