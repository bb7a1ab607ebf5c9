// The activations a model layer may end with, applied element-wise over an NCHW tensor.
//
//   none          y = x
//   relu          y = max(x, 0)
//   leakyReLU(a)  y = x ≥ 0 ? x : a·x
//   prelu(a[c])   y = x ≥ 0 ? x : a[c]·x      a has 1 entry (shared) or one per channel c
//   sigmoid       y = 1 / (1 + e^−x)
//   tanh          y = tanh(x)
//   silu          y = x · sigmoid(x)
//
// Each element's value depends only on itself (and its channel's slope), so applying an
// activation to a tile gives bit-for-bit the values of applying it to the whole image.
// sigmoid and SiLU take e^−x from Logistic (Ops/Logistic.swift: 16 lanes, within 2 ulp of e^−x),
// not libm's scalar `exp`.

import Foundation

public enum Activation: Equatable, Sendable {
    case none
    case relu
    case leakyReLU(Float)
    case prelu([Float])
    case sigmoid
    case tanh
    case silu

    /// Applies the activation in place to `t` (N, C, H, W). For `.prelu`, the slope count is 1 or C.
    public func apply(_ t: inout Tensor) {
        precondition(t.rank == 4, "Activation.apply needs an (N, C, H, W) tensor, got \(t.shape)")
        let (c, plane) = (t.shape[1], t.shape[2] * t.shape[3])
        t.withUnsafeMutableBufferPointer { apply($0, channels: c, plane: plane) }
    }

    /// Applies the activation in place to `x` (N, C, plane), N = x.count / (C·plane).
    func apply(_ x: UnsafeMutableBufferPointer<Float>, channels c: Int, plane: Int) {
        switch self {
        case .none:
            return
        case .relu:
            for i in 0..<x.count { x[i] = max(x[i], 0) }
        case .leakyReLU(let slope):
            for i in 0..<x.count where !(x[i] >= 0) { x[i] = slope * x[i] }
        case .prelu(let slopes):
            precondition(slopes.count == 1 || slopes.count == c,
                         "PReLU has \(slopes.count) slopes for \(c) channels")
            guard c > 0, plane > 0 else { return }
            for (ch, base) in stride(from: 0, to: x.count, by: plane).enumerated() {
                let slope = slopes.count == 1 ? slopes[0] : slopes[ch % c]
                for i in base..<(base + plane) where !(x[i] >= 0) { x[i] = slope * x[i] }
            }
        case .sigmoid:
            guard let base = x.baseAddress else { return }
            Logistic.sigmoid(base, count: x.count, into: base)
        case .tanh:
            for i in 0..<x.count { x[i] = Foundation.tanh(x[i]) }
        case .silu:
            guard let base = x.baseAddress else { return }
            Logistic.silu(base, count: x.count, into: base)
        }
    }
}
