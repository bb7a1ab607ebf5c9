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
        t.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    let base = b * 3 * plane
                    for i in 0..<plane {
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
