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

    /// (1, 1, H, W) gray → (1, 3, H, W) RGB with R = G = B: the RGB a gray image stands for.
    public static func grayToRGB(_ gray: Tensor) -> Tensor {
        precondition(gray.rank == 4 && gray.shape[0] == 1 && gray.shape[1] == 1, "grayToRGB needs (1, 1, H, W), got \(gray.shape)")
        return Tensor(shape: [1, 3, gray.shape[2], gray.shape[3]], data: gray.data + gray.data + gray.data)
    }

    /// (N, 3, H, W) RGB → (N, 3, H, W) YCbCr, both in [0, 1] units.
    public static func rgbToYCbCr(_ rgb: Tensor, threads: Int = Threading.coreCount) -> Tensor {
        affine(rgb, matrix: forward, before: [0, 0, 0], after: offset, threads: threads)
    }

    /// (N, 3, H, W) YCbCr → (N, 3, H, W) RGB, unclamped: the tests' round trip (the colour
    /// stage uses the clamped row form below).
    static func yCbCrToRGB(_ ycc: Tensor, threads: Int = Threading.coreCount) -> Tensor {
        affine(ycc, matrix: inverse, before: offset, after: [0, 0, 0], threads: threads)
    }

    /// Y (1, 1, H, W) and CbCr (1, 2, H, W) → RGB (1, 3, H, W) clamped to [0, 1]: the same values as
    /// clamping `yCbCrToRGB` of the planes stacked, without the stacked copy.
    static func yCbCrToRGBClamped(luma: Tensor, chroma: Tensor, threads: Int) -> Tensor {
        precondition(luma.rank == 4 && luma.shape[0] == 1 && luma.shape[1] == 1
                     && chroma.shape == [1, 2, luma.shape[2], luma.shape[3]], "Y (1, 1, H, W) and CbCr (1, 2, H, W)")
        let plane = luma.shape[2] * luma.shape[3]
        return Tensor(shape: [1, 3, luma.shape[2], luma.shape[3]]) { buffer in
            luma.withUnsafeBufferPointer { y in
                chroma.withUnsafeBufferPointer { c in
                    guard let dst = buffer.baseAddress, let y = y.baseAddress, let c = c.baseAddress else { return }
                    // Each worker owns the pixels of its chunks, all 3 channels.
                    parallelChunks(plane, threads: threads) { r in
                        toRGB.apply(y + r.lowerBound, c + r.lowerBound, c + plane + r.lowerBound, count: r.count,
                                  into: dst + r.lowerBound, dst + plane + r.lowerBound, dst + 2 * plane + r.lowerBound,
                                  clamp: true)
                    }
                }
            }
        }
    }

    /// `yCbCrToRGBClamped` on 8 pixels held in registers: the same bits per pixel.
    @_transparent
    static func yCbCrToRGBClamped(_ y: SIMD8<Float>, _ cb: SIMD8<Float>, _ cr: SIMD8<Float>)
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        toRGB.apply(y, cb, cr, clamp: true)
    }

    private static let toRGB = Affine(matrix: inverse, before: offset, after: [0, 0, 0])

    /// The colour stage's YCbCr → RGB on 8 pixels, in Float: out_c = m_c0·(y − b0) + m_c1·(cb − b1)
    /// + m_c2·(cr − b2) with the `inverse` matrix and `offset` rounded to Float, as fused
    /// multiply-adds in that order, then clamped to [0, 1] (NaN as `Model.clamp` keeps it). Within
    /// a few Float ulps of `yCbCrToRGBClamped`'s Double formula, far below an 8- or 16-bit step
    /// (ColourRowTests checks the packed samples within ±1 of it).
    @_transparent
    static func yCbCrToRGBClampedFloat(_ y: SIMD8<Float>, _ cb: SIMD8<Float>, _ cr: SIMD8<Float>,
                                       _ m: FloatInverse = inverseFloat) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let p0 = y - m.b0, p1 = cb - m.b1, p2 = cr - m.b2
        @inline(__always) func row(_ c0: Float, _ c1: Float, _ c2: Float) -> SIMD8<Float> {
            var v = p0 * c0
            v.addProduct(p1, SIMD8(repeating: c1))
            v.addProduct(p2, SIMD8(repeating: c2))
            v.replace(with: 0, where: v .<= 0)
            v.replace(with: 1, where: v .> 1)
            return v
        }
        return (row(m.m00, m.m01, m.m02), row(m.m10, m.m11, m.m12), row(m.m20, m.m21, m.m22))
    }

    /// `inverse` and `offset` rounded to Float once (a loop holds them in a local: `inverseFloat`
    /// is a lazily made global).
    struct FloatInverse: Sendable {
        let b0, b1, b2: Float
        let m00, m01, m02, m10, m11, m12, m20, m21, m22: Float
    }
    static let inverseFloat: FloatInverse = {
        let (m, b) = (inverse.map { $0.map { Float($0) } }, offset.map { Float($0) })
        return FloatInverse(b0: b[0], b1: b[1], b2: b[2], m00: m[0][0], m01: m[0][1], m02: m[0][2],
                            m10: m[1][0], m11: m[1][1], m12: m[1][2], m20: m[2][0], m21: m[2][1], m22: m[2][2])
    }()

    /// (N, 3, H, W) RGB → (N, 1, H, W) luma Y.
    public static func luma(_ rgb: Tensor, threads: Int = Threading.coreCount) -> Tensor {
        let ycc = rgbToYCbCr(rgb, threads: threads)
        let (n, plane) = (rgb.shape[0], rgb.shape[2] * rgb.shape[3])
        var y = [Float](repeating: 0, count: n * plane)
        for b in 0..<n { for i in 0..<plane { y[b * plane + i] = ycc.data[b * 3 * plane + i] } }
        return Tensor(shape: [n, 1, rgb.shape[2], rgb.shape[3]], data: y)
    }

    /// out[c] = after[c] + Σ_k matrix[c][k]·(in[k] − before[k]) for every pixel, in Double.
    private static func affine(_ t: Tensor, matrix m: [[Double]], before: [Double], after: [Double],
                               threads: Int) -> Tensor {
        precondition(t.rank == 4 && t.shape[1] == 3, "colour conversion needs (N, 3, H, W)")
        let (n, plane) = (t.shape[0], t.shape[2] * t.shape[3])
        let map = Affine(matrix: m, before: before, after: after)
        return Tensor(shape: t.shape) { buffer in
            t.withUnsafeBufferPointer { src in
                guard let dst = buffer.baseAddress, let src = src.baseAddress else { return }
                for b in 0..<n {
                    // Each worker owns the pixels of its chunks of image b, all 3 channels.
                    parallelChunks(plane, threads: threads) { r in
                        let first = b * 3 * plane + r.lowerBound
                        map.apply(src + first, src + plane + first, src + 2 * plane + first, count: r.count,
                                  into: dst + first, dst + plane + first, dst + 2 * plane + first, clamp: false)
                    }
                }
            }
        }
    }

    /// out_c = Float(a_c + m_c0·(in_0 − b_0) + m_c1·(in_1 − b_1) + m_c2·(in_2 − b_2)) per pixel, in Double
    /// and in that order (a separate × and +), then optionally clamped to [0, 1] as min(max(v, 0), 1)
    /// does; 4 pixels at a time, each lane exactly the scalar formula.
    private struct Affine {
        let b0, b1, b2: Double
        let a0, a1, a2: Double
        let m00, m01, m02, m10, m11, m12, m20, m21, m22: Double

        init(matrix m: [[Double]], before b: [Double], after a: [Double]) {
            (b0, b1, b2) = (b[0], b[1], b[2])
            (a0, a1, a2) = (a[0], a[1], a[2])
            (m00, m01, m02) = (m[0][0], m[0][1], m[0][2])
            (m10, m11, m12) = (m[1][0], m[1][1], m[1][2])
            (m20, m21, m22) = (m[2][0], m[2][1], m[2][2])
        }

        /// The map on 8 pixels, the same operations per lane as `apply` (8 Doubles: one AVX-512
        /// register). Transparent: a call per 8 pixels would cost more than the map.
        @_transparent
        func apply(_ in0: SIMD8<Float>, _ in1: SIMD8<Float>, _ in2: SIMD8<Float>, clamp: Bool)
            -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            typealias D8 = SIMD8<Double>
            let p0 = Affine.widen(in0) - b0, p1 = Affine.widen(in1) - b1, p2 = Affine.widen(in2) - b2
            var out0 = Affine.narrow(D8(repeating: a0) + m00 * p0 + m01 * p1 + m02 * p2)
            var out1 = Affine.narrow(D8(repeating: a1) + m10 * p0 + m11 * p1 + m12 * p2)
            var out2 = Affine.narrow(D8(repeating: a2) + m20 * p0 + m21 * p1 + m22 * p2)
            if clamp {
                out0.replace(with: 0, where: out0 .<= 0); out0.replace(with: 1, where: out0 .> 1)
                out1.replace(with: 0, where: out1 .<= 0); out1.replace(with: 1, where: out1 .> 1)
                out2.replace(with: 0, where: out2 .<= 0); out2.replace(with: 1, where: out2 .> 1)
            }
            return (out0, out1, out2)
        }

        /// Float → Double per lane, by halves (the generic conversion is a call in a large loop).
        @_transparent
        static func widen(_ v: SIMD8<Float>) -> SIMD8<Double> {
            SIMD8(lowHalf: SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3])),
                  highHalf: SIMD4<Double>(Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7])))
        }

        /// Double → Float per lane, rounded to nearest as Float(_:) does.
        @_transparent
        static func narrow(_ v: SIMD8<Double>) -> SIMD8<Float> {
            SIMD8(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
        }

        // src = 3 planes of `count` pixels / dst = 3 planes of `count` pixels
        @inline(__always)
        func apply(_ in0: UnsafePointer<Float>, _ in1: UnsafePointer<Float>, _ in2: UnsafePointer<Float>, count: Int,
                   into out0: UnsafeMutablePointer<Float>, _ out1: UnsafeMutablePointer<Float>,
                   _ out2: UnsafeMutablePointer<Float>, clamp: Bool) {
            typealias D4 = SIMD4<Double>  // 4 lanes: the 9 coefficients and 3 inputs stay in registers
            func load(_ p: UnsafePointer<Float>) -> D4 { D4(UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)) }
            func store(_ v: D4, _ p: UnsafeMutablePointer<Float>) {
                var f = SIMD4<Float>(v)
                if clamp {
                    f.replace(with: 0, where: f .<= 0)  // max(f, 0) = 0 >= f ? 0 : f (NaN stays)
                    f.replace(with: 1, where: f .> 1)   // min(f, 1) = 1 < f ? 1 : f
                }
                UnsafeMutableRawPointer(p).storeBytes(of: f, as: SIMD4<Float>.self)
            }
            var i = 0
            while i + 4 <= count {
                let p0 = load(in0 + i) - b0, p1 = load(in1 + i) - b1, p2 = load(in2 + i) - b2
                store(D4(repeating: a0) + m00 * p0 + m01 * p1 + m02 * p2, out0 + i)
                store(D4(repeating: a1) + m10 * p0 + m11 * p1 + m12 * p2, out1 + i)
                store(D4(repeating: a2) + m20 * p0 + m21 * p1 + m22 * p2, out2 + i)
                i += 4
            }
            func finish(_ v: Double) -> Float { clamp ? min(max(Float(v), 0), 1) : Float(v) }
            while i < count {
                let p0 = Double(in0[i]) - b0, p1 = Double(in1[i]) - b1, p2 = Double(in2[i]) - b2
                out0[i] = finish(a0 + m00 * p0 + m01 * p1 + m02 * p2)
                out1[i] = finish(a1 + m10 * p0 + m11 * p1 + m12 * p2)
                out2[i] = finish(a2 + m20 * p0 + m21 * p1 + m22 * p2)
                i += 1
            }
        }
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
