// The element-wise nodes of a graph model, over blocks of C planes (C, plane) in float32. Each
// output element depends only on the same element of the inputs (and its channel's constant), so
// any split into rows, columns or threads gives the same bits as the whole image.
//
//   add      y = Σ s[i]·x[i]: acc = s[0]·x[0]; acc = acc + s[i]·x[i] for i = 1, 2, …  (a product
//            with s = 1 is exact, so `out·0.2 + x` is PyTorch's `out * 0.2 + x` bit for bit)
//   mul      y = x[0]·x[1]
//   affine   y = (x + shift[c])·scale[c]       (shift, scale: 1 value or one per channel)
//   sigmoid, silu, leaky_relu, prelu: as Activation (Ops/Activation.swift)
//
// No multiply-add is fused: Swift does not contract a·b + c, so each product and sum rounds once.

enum ElementwiseOps {
    /// out (C·plane) = Σ scales[i]·inputs[i], each input (C·plane).
    static func add(_ inputs: [UnsafePointer<Float>], scales: [Float], count: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(inputs.count == scales.count && !inputs.isEmpty, "add: one scale per input")
        let s0 = scales[0], x0 = inputs[0]
        for e in 0..<count { out[e] = s0 * x0[e] }
        for i in 1..<inputs.count {
            let s = scales[i], x = inputs[i]
            for e in 0..<count { out[e] = out[e] + s * x[e] }
        }
    }

    /// out = a·b element-wise, (count).
    static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) {
        for e in 0..<count { out[e] = a[e] * b[e] }
    }

    /// out (C, plane) = (x + shift[c])·scale[c], x (C, plane).
    static func affine(_ x: UnsafePointer<Float>, shift: [Float], scale: [Float], channels: Int, plane: Int,
                       into out: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            let b = shift.count == 1 ? shift[0] : shift[c]
            let a = scale.count == 1 ? scale[0] : scale[c]
            let base = c * plane
            for e in base..<(base + plane) { out[e] = (x[e] + b) * a }
        }
    }

    /// out (C, plane) = activation(x), x (C, plane).
    static func activation(_ activation: Activation, _ x: UnsafePointer<Float>, channels: Int, plane: Int,
                           into out: UnsafeMutablePointer<Float>) {
        let count = channels * plane
        if UnsafePointer(out) != x { out.update(from: x, count: count) }
        activation.apply(UnsafeMutableBufferPointer(start: out, count: count), channels: channels, plane: plane)
    }
}
