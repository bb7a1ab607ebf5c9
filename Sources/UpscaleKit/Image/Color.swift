// BT.601 YCbCr as MATLAB's rgb2ycbcr / ycbcr2rgb, on values in [0, 1]:
//   Y  = ( 16 +  65.481·R + 128.553·G +  24.966·B) / 255        Y  ∈ [16/255, 235/255]
//   Cb = (128 −  37.797·R −  74.203·G + 112.000·B) / 255
//   Cr = (128 + 112.000·R −  93.786·G −  18.214·B) / 255
// ycbcr2rgb is the exact inverse of that affine map (matrix inverted once, in Double).

public enum ColorSpace {
    static let forward: [[Double]] = [[65.481, 128.553, 24.966],
                                      [-37.797, -74.203, 112.0],
                                      [112.0, -93.786, -18.214]].map { $0.map { $0 / 255 } }
    static let offset: [Double] = [16.0 / 255, 128.0 / 255, 128.0 / 255]
    static let inverse: [[Double]] = invert3x3(forward)

    /// (N, 3, H, W) RGB → (N, 3, H, W) YCbCr, both in [0, 1] units.
    public static func rgbToYCbCr(_ rgb: Tensor) -> Tensor {
        affine(rgb, matrix: forward, before: [0, 0, 0], after: offset)
    }

    /// (N, 3, H, W) YCbCr → (N, 3, H, W) RGB, unclamped.
    public static func yCbCrToRGB(_ ycc: Tensor) -> Tensor {
        affine(ycc, matrix: inverse, before: offset, after: [0, 0, 0])
    }

    /// Y (1, 1, H, W) and CbCr (1, 2, H, W) → RGB (1, 3, H, W) clamped to [0, 1]: the same values as
    /// clamping `yCbCrToRGB` of the planes stacked, without the stacked copy.
    static func yCbCrToRGBClamped(luma: Tensor, chroma: Tensor) -> Tensor {
        precondition(luma.rank == 4 && luma.shape[0] == 1 && luma.shape[1] == 1
                     && chroma.shape == [1, 2, luma.shape[2], luma.shape[3]], "Y (1, 1, H, W) and CbCr (1, 2, H, W)")
        let plane = luma.shape[2] * luma.shape[3]
        var out = [Float](repeating: 0, count: 3 * plane)
        let (b0, b1, b2) = (offset[0], offset[1], offset[2])
        let m = inverse
        let (m00, m01, m02) = (m[0][0], m[0][1], m[0][2])
        let (m10, m11, m12) = (m[1][0], m[1][1], m[1][2])
        let (m20, m21, m22) = (m[2][0], m[2][1], m[2][2])
        @inline(__always) func clamp(_ v: Float) -> Float { min(max(v, 0), 1) }
        let chunk = 1 << 16
        luma.withUnsafeBufferPointer { y in
            chroma.withUnsafeBufferPointer { c in
                out.withUnsafeMutableBufferPointer { dst in
                    let dst = dst
                    // Worker for item k owns pixels [k·chunk, (k + 1)·chunk), all 3 channels.
                    parallelFor((plane + chunk - 1) / chunk) { k in
                        for i in (k * chunk)..<min(plane, (k + 1) * chunk) {
                            let p0 = Double(y[i]) - b0
                            let p1 = Double(c[i]) - b1
                            let p2 = Double(c[plane + i]) - b2
                            dst[i] = clamp(Float(0 + m00 * p0 + m01 * p1 + m02 * p2))
                            dst[plane + i] = clamp(Float(0 + m10 * p0 + m11 * p1 + m12 * p2))
                            dst[2 * plane + i] = clamp(Float(0 + m20 * p0 + m21 * p1 + m22 * p2))
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, 3, luma.shape[2], luma.shape[3]], data: out)
    }

    /// (N, 3, H, W) RGB → (N, 1, H, W) luma Y.
    public static func luma(_ rgb: Tensor) -> Tensor {
        let ycc = rgbToYCbCr(rgb)
        let (n, plane) = (rgb.shape[0], rgb.shape[2] * rgb.shape[3])
        var y = [Float](repeating: 0, count: n * plane)
        for b in 0..<n { for i in 0..<plane { y[b * plane + i] = ycc.data[b * 3 * plane + i] } }
        return Tensor(shape: [n, 1, rgb.shape[2], rgb.shape[3]], data: y)
    }

    /// out[c] = after[c] + Σ_k matrix[c][k]·(in[k] − before[k]) for every pixel, in Double.
    private static func affine(_ t: Tensor, matrix m: [[Double]], before: [Double], after: [Double]) -> Tensor {
        precondition(t.rank == 4 && t.shape[1] == 3, "colour conversion needs (N, 3, H, W)")
        let (n, plane) = (t.shape[0], t.shape[2] * t.shape[3])
        var out = [Float](repeating: 0, count: t.count)
        // The coefficients as scalars: the loop reads no array (same arithmetic, in the same order).
        let (b0, b1, b2) = (before[0], before[1], before[2])
        let (a0, a1, a2) = (after[0], after[1], after[2])
        let (m00, m01, m02) = (m[0][0], m[0][1], m[0][2])
        let (m10, m11, m12) = (m[1][0], m[1][1], m[1][2])
        let (m20, m21, m22) = (m[2][0], m[2][1], m[2][2])
        let chunk = 1 << 16
        let chunks = (plane + chunk - 1) / chunk
        t.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let dst = dst
                // Worker for item k owns pixels [k·chunk, (k + 1)·chunk) of one image, all 3 channels.
                parallelFor(n * chunks) { item in
                    let base = (item / chunks) * 3 * plane
                    let first = (item % chunks) * chunk
                    for i in first..<min(plane, first + chunk) {
                        let p0 = Double(src[base + i]) - b0
                        let p1 = Double(src[base + plane + i]) - b1
                        let p2 = Double(src[base + 2 * plane + i]) - b2
                        dst[base + i] = Float(a0 + m00 * p0 + m01 * p1 + m02 * p2)
                        dst[base + plane + i] = Float(a1 + m10 * p0 + m11 * p1 + m12 * p2)
                        dst[base + 2 * plane + i] = Float(a2 + m20 * p0 + m21 * p1 + m22 * p2)
                    }
                }
            }
        }
        return Tensor(shape: t.shape, data: out)
    }

    private static func invert3x3(_ m: [[Double]]) -> [[Double]] {
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        var r = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<3 {
            for j in 0..<3 {
                let (a, b) = ((j + 1) % 3, (j + 2) % 3), (c, d) = ((i + 1) % 3, (i + 2) % 3)
                r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det
            }
        }
        return r
    }
}
