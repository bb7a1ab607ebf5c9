// Image quality as the super-resolution literature measures it: on the luma channel (BT.601,
// MATLAB rgb2ycbcr, unrounded, in 0…255 units), with `shave` border pixels removed.
//   PSNR = 10·log10(255² / MSE)
//   SSIM  Wang et al. 2004: 11×11 Gaussian window (σ = 1.5), K1 = 0.01, K2 = 0.03, L = 255,
//         'valid' windows only, mean over the map.

import Foundation

public enum Quality {
    /// Peak signal-to-noise ratio in dB of two equally sized planes in 0…255 (infinity when equal).
    public static func psnr(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "psnr needs two planes of one size")
        var sum = 0.0
        for i in 0..<a.count { let d = a[i] - b[i]; sum += d * d }
        let mse = sum / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(65025.0 / mse)
    }

    /// Mean structural similarity of two (height × width) planes in 0…255.
    public static func ssim(_ a: [Double], _ b: [Double], height: Int, width: Int) -> Double {
        precondition(a.count == height * width && b.count == a.count, "ssim needs two planes of one size")
        let window = gaussianWindow(size: 11, sigma: 1.5)
        let radius = 5
        guard height > 2 * radius, width > 2 * radius else { return a == b ? 1 : 0 }
        let c1 = 6.5025, c2 = 58.5225   // (0.01·255)², (0.03·255)²
        var total = 0.0
        var windows = 0
        for y in radius..<(height - radius) {
            for x in radius..<(width - radius) {
                var (ma, mb, saa, sbb, sab) = (0.0, 0.0, 0.0, 0.0, 0.0)
                for dy in -radius...radius {
                    let row = (y + dy) * width + x
                    for dx in -radius...radius {
                        let w = window[(dy + radius) * 11 + dx + radius]
                        let (va, vb) = (a[row + dx], b[row + dx])
                        ma += w * va; mb += w * vb
                        saa += w * va * va; sbb += w * vb * vb; sab += w * va * vb
                    }
                }
                let (varA, varB, cov) = (saa - ma * ma, sbb - mb * mb, sab - ma * mb)
                total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (varA + varB + c2))
                windows += 1
            }
        }
        return total / Double(windows)
    }

    static func gaussianWindow(size: Int, sigma: Double) -> [Double] {
        let r = Double(size / 2)
        var w = [Double]()
        for y in 0..<size {
            for x in 0..<size {
                let (dy, dx) = (Double(y) - r, Double(x) - r)
                w.append(exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
            }
        }
        let sum = w.reduce(0, +)
        return w.map { $0 / sum }
    }

    /// Luma of an RGB (1, 3, H, W) or gray (1, 1, H, W) image in [0, 1], as 0…255 Doubles with `shave` pixels cut
    /// from every border. Returns the plane and its (height, width).
    public static func lumaPlane(_ image: Tensor, shave: Int,
                                 threads: Int = Threading.coreCount) -> (plane: [Double], height: Int, width: Int) {
        precondition(image.rank == 4 && image.shape[0] == 1, "lumaPlane needs (1, C, H, W)")
        let y = image.shape[1] == 3 ? ColorSpace.luma(image, threads: threads) : image
        let (h, w) = (image.shape[2], image.shape[3])
        let (outH, outW) = (max(0, h - 2 * shave), max(0, w - 2 * shave))
        var plane = [Double]()
        plane.reserveCapacity(outH * outW)
        for r in 0..<outH {
            for c in 0..<outW { plane.append(Double(y.data[(r + shave) * w + c + shave]) * 255) }
        }
        return (plane, outH, outW)
    }
}
