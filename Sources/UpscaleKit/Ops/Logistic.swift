// sigmoid and SiLU over runs of floats, 16 lanes at a time: the activations of SPAN's convolutions
// and gates, and of any layer or node that asks for them (Activation, ElementwiseOps).
//
//   sigmoid  y = 1 / (1 + e^−x)
//   silu     y = x / (1 + e^−x)
//   e^t      t = n·ln 2 + r, n = round(t / ln 2), |r| ≤ ln 2 / 2;
//            e^r = 1 + r + r²·P(r), P of degree 5 (Cephes' expf); 2^n written into the exponent bits
//
// libm's scalar `exp` cost SPAN about a sixth of its time. This e^t is within 2 ulp of the exact
// value (LogisticTests checks it against Double), so sigmoid and SiLU are within 3 ulp. (PyTorch's
// CPU sigmoid takes e^−x from a vector exp too, Sleef's; neither is libm bit for bit.)
//
// Bits: every lane does the same operations in the same order, and a run's last count % 16 floats
// go through one zero-padded vector, so an element's value depends only on itself: the same
// for any run it is part of (a row, a slice of columns, a whole plane), any thread split and
// either instruction set (SIMD16 is one AVX-512 register or two AVX2 ones; each multiply-add
// that is fused is fused explicitly, `addingProduct`, which rounds once on both).
//
// Range: e^t is exact to 2 ulp for t in [−86.6, ln(Float.max)]; below, it is e^−86.6 (≈ 2.5e−38,
// where 1 + e^t rounds to 1 as it does for the true value); above, +∞ as libm gives. So
// sigmoid(x) is 1 above x = 86.6 and 0 below −88.7, silu(−∞) = NaN (−∞/∞) as in the scalar
// formula, and a NaN in gives NaN out.

enum Logistic {
    typealias Vector = SIMD16<Float>
    static let lanes = Vector.scalarCount

    /// e^t per lane (see top).
    @inline(__always) static func exp(_ t: Vector) -> Vector {
        let lowest = Vector(repeating: -86.6), highest = Vector(repeating: 88.722_83)   // n from −125 to 128
        var clamped = t
        clamped.replace(with: lowest, where: t .< lowest)
        clamped.replace(with: highest, where: t .> highest)
        // n = round(t·log₂e) by adding 1.5·2²³: the sum's low mantissa bits hold n.
        let magic = Vector(repeating: 12_582_912)
        let shifted = magic.addingProduct(clamped, Vector(repeating: 1.442_695_04))
        let n = shifted - magic
        // r = t − n·ln 2 in two steps; n·0.693359375 is exact (|n| ≤ 128, a 9-bit constant).
        let r = clamped.addingProduct(n, Vector(repeating: -0.693_359_375)).addingProduct(n, Vector(repeating: 2.121_944_4e-4))
        // e^r = 1 + r + r²·P(r), Horner.
        var p = Vector(repeating: 1.987_569_15e-4)
        p = Vector(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
        p = Vector(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = Vector(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = Vector(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = Vector(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        let er = r.addingProduct(r * r, p) + 1
        // 2^n = 2^(n − 1)·2 (n = 128 has no exponent field; doubling is exact): n − 1 + 127 in the exponent field.
        let biased = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- SIMD16<Int32>(repeating: 0x4B40_0000 - 126)
        var y = er * unsafeBitCast(biased &<< 23, to: Vector.self) * 2
        y.replace(with: Vector(repeating: .infinity), where: t .> Vector(repeating: 88.722_84))   // beyond Float.max: libm's ∞
        y.replace(with: t, where: t .!= t)                                                        // NaN in, NaN out
        return y
    }

    @inline(__always) static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

    @inline(__always) static func silu(_ x: Vector) -> Vector { x / (1 + exp(-x)) }

    /// out (count) = sigmoid(x), x (count); `out` may be `x`.
    static func sigmoid(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        map(x, count: count, into: out, sigmoid)
    }

    /// out (count) = silu(x), x (count); `out` may be `x`.
    static func silu(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        map(x, count: count, into: out, silu)
    }

    /// out[e] = f(x[e]) by whole vectors, the tail through one zero-padded vector.
    @inline(__always) private static func map(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>,
                                              _ f: (Vector) -> Vector) {
        let whole = count / lanes * lanes
        for e in stride(from: 0, to: whole, by: lanes) {
            UnsafeMutableRawPointer(out + e).storeBytes(of: f(UnsafeRawPointer(x + e).loadUnaligned(as: Vector.self)), as: Vector.self)
        }
        guard whole < count else { return }
        var tail = Vector()
        for e in whole..<count { tail[e - whole] = x[e] }
        let y = f(tail)
        for e in whole..<count { out[e] = y[e - whole] }
    }
}
