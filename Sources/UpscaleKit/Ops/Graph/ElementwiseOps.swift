// The element-wise nodes of a graph model, over runs of `count` floats (a row, a plane, a block of
// planes). Each output element depends only on the same element of the inputs (and its channel's
// constant), so any split into rows, columns or threads gives the same bits as the whole image.
//
//   add      y = Σ s[i]·x[i]: acc = s[0]·x[0]; acc = acc + s[i]·x[i] for i = 1, 2, …  (a product
//            with s = 1 is exact, so `out·0.2 + x` is PyTorch's `out * 0.2 + x` bit for bit)
//   mul      y = x[0]·x[1]
//   affine   y = (x + shift)·scale             (one shift and scale per run: the run is in one channel)
//   leaky    y = x ≥ 0 ? x : slope·x           (leaky_relu, and prelu with the run's channel's slope)
//   sigmoid  y = 1 / (1 + e^−x)
//   silu     y = x / (1 + e^−x)
//   (the same formulas as Activation, Ops/Activation.swift)
//
// Vector form: SIMD16<Float> over the run and a scalar tail; each lane does the scalar formula's
// operations in the same order, one IEEE rounding each. No multiply-add is fused: Swift does not
// contract a·b + c, for scalars or SIMD types. sigmoid and silu are Logistic's (Ops/Logistic.swift:
// a 16-lane e^−x within 2 ulp, the same bits for an element wherever it sits in a run).

import Foundation

enum ElementwiseOps {
    typealias Vector = SIMD16<Float>
    static let lanes = Vector.scalarCount

    /// out (count) = Σ scales[i]·inputs[i], each input (count).
    static func add(_ inputs: [UnsafePointer<Float>], scales: [Float], count: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(inputs.count == scales.count && !inputs.isEmpty, "add: one scale per input")
        let whole = count / lanes * lanes
        let s0 = scales[0], x0 = inputs[0]
        for e in stride(from: 0, to: whole, by: lanes) { store(Vector(repeating: s0) * load(x0 + e), out + e) }
        for e in whole..<count { out[e] = s0 * x0[e] }
        for i in 1..<inputs.count {
            let s = scales[i], x = inputs[i]
            for e in stride(from: 0, to: whole, by: lanes) { store(load(out + e) + Vector(repeating: s) * load(x + e), out + e) }
            for e in whole..<count { out[e] = out[e] + s * x[e] }
        }
    }

    /// out = a·b element-wise, (count).
    static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        let whole = count / lanes * lanes
        for e in stride(from: 0, to: whole, by: lanes) { store(load(a + e) * load(b + e), out + e) }
        for e in whole..<count { out[e] = a[e] * b[e] }
    }

    /// out (count) = (x + shift)·scale, x (count): one channel's run.
    static func affine(_ x: UnsafePointer<Float>, shift: Float, scale: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
        let whole = count / lanes * lanes
        let (b, a) = (Vector(repeating: shift), Vector(repeating: scale))
        for e in stride(from: 0, to: whole, by: lanes) { store((load(x + e) + b) * a, out + e) }
        for e in whole..<count { out[e] = (x[e] + shift) * scale }
    }

    /// out (C, plane) = (x + shift[c])·scale[c], x (C, plane); shift and scale: 1 value or one per channel.
    static func affine(_ x: UnsafePointer<Float>, shift: [Float], scale: [Float], channels: Int, plane: Int,
                       into out: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            affine(x + c * plane, shift: shift.count == 1 ? shift[0] : shift[c], scale: scale.count == 1 ? scale[0] : scale[c],
                   count: plane, into: out + c * plane)
        }
    }

    /// out (count) = x ≥ 0 ? x : slope·x, x (count): leaky_relu, or prelu on one channel's run.
    static func leaky(_ x: UnsafePointer<Float>, slope: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
        let whole = count / lanes * lanes
        let zero = Vector(repeating: 0), a = Vector(repeating: slope)
        for e in stride(from: 0, to: whole, by: lanes) {
            let v = load(x + e)
            store(v.replacing(with: a * v, where: .!(v .>= zero)), out + e)
        }
        for e in whole..<count { let v = x[e]; out[e] = v >= 0 ? v : slope * v }
    }

    /// out (count) = 1 / (1 + e^−x) (Logistic).
    static func sigmoid(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        Logistic.sigmoid(x, count: count, into: out)
    }

    /// out (count) = x / (1 + e^−x) (Logistic).
    static func silu(_ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        Logistic.silu(x, count: count, into: out)
    }

    /// out (count) = activation(x) for the single-channel activations (`prelu` given its run's slope).
    static func activation(_ activation: Activation, _ x: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch activation {
        case .leakyReLU(let slope): leaky(x, slope: slope, count: count, into: out)
        case .prelu(let slopes):
            precondition(slopes.count == 1, "prelu on one channel's run takes that channel's slope")
            leaky(x, slope: slopes[0], count: count, into: out)
        case .sigmoid: sigmoid(x, count: count, into: out)
        case .silu: silu(x, count: count, into: out)
        default: preconditionFailure("not a graph activation node: \(activation)")
        }
    }

    /// out (C, plane) = activation(x), x (C, plane); prelu slopes: 1 value or one per channel.
    static func activation(_ activation: Activation, _ x: UnsafePointer<Float>, channels: Int, plane: Int,
                           into out: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            let one: Activation
            if case .prelu(let slopes) = activation { one = .prelu([slopes.count == 1 ? slopes[0] : slopes[c]]) } else { one = activation }
            self.activation(one, x + c * plane, count: plane, into: out + c * plane)
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Vector { load(UnsafePointer(p)) }

    @inline(__always) static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }
}
