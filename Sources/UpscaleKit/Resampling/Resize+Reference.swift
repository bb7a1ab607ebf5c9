// The scalar resize passes: the algorithmic reference the vector passes (Resize+Fast.swift) are
// tested against bit for bit, and the definition of the arithmetic they keep. Per output element:
//
//   acc = 0.0;  for each tap j in order: acc += weight · Double(input)   (a separate × and +, no fma)
//   output = finish(acc)                                                  (Float(acc) or the 1/255 step)
//
// The height pass skips taps whose weight is 0 for that output row; the width pass sums every tap
// in usedTaps (the taps nonzero for some output), zero weights included.

extension Resize {
    /// `bicubic(_:height:width:quantize8Bit:)` through the scalar passes, in the same axis order.
    static func bicubicReference(_ t: Tensor, height: Int, width: Int, quantize8Bit: Bool = false) -> Tensor {
        let (inH, inW) = (t.shape[2], t.shape[3])
        let scaleH = Double(height) / Double(inH), scaleW = Double(width) / Double(inW)
        func heightPass(_ t: Tensor) -> Tensor {
            if height == inH && !quantize8Bit { return t }
            let c = contributions(inLength: inH, outLength: height, scale: scaleH)
            return resizeRowsReference(t, rowOrigin: 0, rows: c, outRows: 0..<height, quantize: quantize8Bit)
        }
        func widthPass(_ t: Tensor) -> Tensor {
            if width == inW && !quantize8Bit { return t }
            let c = contributions(inLength: inW, outLength: width, scale: scaleW)
            return resizeWidthReference(t, contributions: c, quantize: quantize8Bit)
        }
        return scaleW < scaleH ? heightPass(widthPass(t)) : widthPass(heightPass(t))
    }

    /// Output rows `outRows` of the height pass whose taps are `c`, from `t`, which holds the
    /// input rows `rowOrigin ..< rowOrigin + t.shape[2]`.
    // src = (N, C, band rows, W) / dst = (N, C, outRows.count, W)
    static func resizeRowsReference(_ t: Tensor, rowOrigin: Int, rows c: Contributions, outRows: Range<Int>,
                                    quantize: Bool) -> Tensor {
        let (planes, inH, w) = (t.shape[0] * t.shape[1], t.shape[2], t.shape[3])
        let outH = outRows.count
        var out = [Float](repeating: 0, count: planes * outH * w)
        var acc = [Double](repeating: 0, count: w)  // (W) one output row's sums
        for plane in 0..<planes {
            for k in 0..<outH {
                let o = outRows.lowerBound + k
                for x in 0..<w { acc[x] = 0 }
                for j in 0..<c.taps {
                    let wt = c.weight[o * c.taps + j]
                    if wt == 0 { continue }
                    let row = (plane * inH + c.index[o * c.taps + j] - rowOrigin) * w
                    for x in 0..<w { acc[x] += wt * Double(t.data[row + x]) }
                }
                for x in 0..<w { out[(plane * outH + k) * w + x] = finish(acc[x], quantize: quantize) }
            }
        }
        return Tensor(shape: [t.shape[0], t.shape[1], outH, w], data: out)
    }

    // src = (N, C, H, W) / dst = (N, C, H, outW) with the taps `c`
    static func resizeWidthReference(_ t: Tensor, contributions c: Contributions, quantize: Bool) -> Tensor {
        let (rows, inW) = (t.shape[0] * t.shape[1] * t.shape[2], t.shape[3])
        let taps = c.taps
        let outW = c.index.count / taps
        var out = [Float](repeating: 0, count: rows * outW)
        // Taps whose weight is 0 for every output (2 of 6 for an integer upscale) are left out of
        // the sums: adding 0·x to a sum that started at +0 changes no bit.
        let used = (0..<taps).filter { j in (0..<outW).contains { c.weight[$0 * taps + j] != 0 } }
        let (jLo, jHi) = (used.first ?? 0, (used.last ?? -1) + 1)
        for r in 0..<rows {
            for o in 0..<outW {
                var acc = 0.0
                for j in jLo..<jHi { acc += c.weight[o * taps + j] * Double(t.data[r * inW + c.index[o * taps + j]]) }
                out[r * outW + o] = finish(acc, quantize: quantize)
            }
        }
        return Tensor(shape: [t.shape[0], t.shape[1], t.shape[2], outW], data: out)
    }
}
