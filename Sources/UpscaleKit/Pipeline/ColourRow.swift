// The colour stage's per-pixel part, one pass over an output row, 8 pixels at a time:
//
//   model_m = stack_m + residual_m            with alpha a: stack_m·a + residual_m (premultiplied residual);
//                                             no residual: stack_m, with alpha black + a·(stack_m − black)
//   colour  = rgb → RGB    clamp(model)
//             rgb → gray   clamp((m0 + m1 + m2) / 3)
//             y   → RGB    ycbcr2rgb(model_0, Cb, Cr) in Float, clamped (ColorSpace.yCbCrToRGBClampedFloat)
//             y   → gray   clamp((model_0 − 16/255) · 255/219)
//   colour  = min(colour / a, 1) where there is alpha and a > 0, else 0 (un-premultiplied)
//   → the writer's packed samples (PixelPacking.quantize), or float rows
//
// The rows it reads (the stack's row, the bicubic residual, chroma and alpha rows) are made by the
// caller (the bicubic ones in Float: Resize.bicubicRowFloat); this pass keeps the 8 pixels in
// registers from the sum to the packed samples. Each lane does the scalar formula's operations in
// the same order (ColourRowTests writes them out), so a pixel's bits depend on its inputs only, not
// on the band or thread. The row's last count mod 8 pixels go through the same vector code,
// zero-padded; the padding lanes are never stored.
//
// The usual case, a y model with its bicubic residual written as 8-bit RGB without alpha, has a
// path of its own (packBicubicYToRGB8): from the height pass's rows of Y, Cb and Cr it makes the
// width pass of the three per chunk of 64 input columns into buffers that stay in the L1 cache
// and packs each chunk at once, so the three full-width float rows are never written. The same
// sums and per-pixel operations, so the same bytes (ColourRowFusedTests).

struct ColourRow {
    typealias V = SIMD8<Float>

    /// The model's rows at this output row: its stack output, channel m at `stack.m` (1 or 3 rows;
    /// a tuple, not an array: the loop reads it per 8 pixels).
    var stack: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)
    /// The residual's rows (bicubic or nearest of the model input), or nil for a model without one.
    var residual: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)?
    /// The output row's alpha (clamped), or nil for an image without alpha.
    var alpha: UnsafePointer<Float>?
    /// Cb and Cr rows (bicubic of the window's chroma) when a y model writes RGB.
    var chroma: (cb: UnsafePointer<Float>, cr: UnsafePointer<Float>)?
    var channels: ModelChannels
    var colorChannels: Int
    var count: Int
    /// YCbCr → RGB's Float coefficients, held here: the global is lazily made.
    let toRGB = ColorSpace.inverseFloat

    /// Model channel m's value at pixels i ..< i + lanes (the rest 0).
    @_transparent
    private func model(_ m: Int, _ i: Int, lanes: Int, alpha a: V?) -> V {
        let s = ColourRow.load(m == 0 ? stack.0 : m == 1 ? stack.1 : stack.2, i, lanes)
        if let residual {
            let r = ColourRow.load(m == 0 ? residual.0 : m == 1 ? residual.1 : residual.2, i, lanes)
            guard let a else { return s + r }
            return s * a + r
        }
        guard let a else { return s }
        // No residual: the stack's output is the colour, premultiplied here; a y model's Y
        // premultiplied about its black level 16/255, as its chroma are.
        let black: Float = channels == .y ? 16 / 255 : 0
        return (black + a * (s - black)).replacing(with: s, where: a .== 1)
    }

    /// The output colour at pixels i ..< i + lanes: channels 0 ..< colorChannels (the rest unused),
    /// clamped and, with alpha, unpremultiplied; and the alpha (1 when there is none).
    @_transparent
    func pixels(_ i: Int, lanes: Int) -> (V, V, V, alpha: V) {
        var a: V? = nil
        if let alpha { a = ColourRow.load(alpha, i, lanes) }
        var c0: V, c1 = V(), c2 = V()
        switch (channels, colorChannels) {
        case (.rgb, 3):
            c0 = ColourRow.clamp(model(0, i, lanes: lanes, alpha: a))
            c1 = ColourRow.clamp(model(1, i, lanes: lanes, alpha: a))
            c2 = ColourRow.clamp(model(2, i, lanes: lanes, alpha: a))
        case (.rgb, _):
            let sum = model(0, i, lanes: lanes, alpha: a) + model(1, i, lanes: lanes, alpha: a)
                + model(2, i, lanes: lanes, alpha: a)
            c0 = ColourRow.clamp(sum / 3)
        case (.y, 3):
            guard let chroma else { preconditionFailure("a y model on RGB has chroma") }
            (c0, c1, c2) = ColorSpace.yCbCrToRGBClampedFloat(model(0, i, lanes: lanes, alpha: a),
                                                             ColourRow.load(chroma.cb, i, lanes),
                                                             ColourRow.load(chroma.cr, i, lanes), toRGB)
        case (.y, _):
            c0 = ColourRow.clamp((model(0, i, lanes: lanes, alpha: a) - 16 / 255) * (255 / 219))
        }
        guard let a else { return (c0, c1, c2, V(repeating: 1)) }
        // The colour came premultiplied.
        return (ColourRow.unpremultiply(c0, a), ColourRow.unpremultiply(c1, a), ColourRow.unpremultiply(c2, a), a)
    }

    /// The row as float rows: colour c into `out[c]` (`count` values each).
    func write(into out: [UnsafeMutablePointer<Float>]) {
        var i = 0
        while i < count {
            let lanes = min(8, count - i)
            let (c0, c1, c2, _) = pixels(i, lanes: lanes)
            ColourRow.store(c0, out[0] + i, lanes)
            if colorChannels == 3 {
                ColourRow.store(c1, out[1] + i, lanes)
                ColourRow.store(c2, out[2] + i, lanes)
            }
            i += lanes
        }
    }

    /// The row as the writer's samples, (count, colorChannels + alpha) into `dst`
    /// (PixelPacking.storePixels: interleaveRow's bytes).
    func pack(withAlpha: Bool, sampleBits: Int, into dst: UnsafeMutablePointer<UInt8>) {
        // A photo through a y model with its bicubic residual, written as 8-bit RGB: the usual
        // case, in a loop of its own.
        if sampleBits == 8, !withAlpha, alpha == nil, channels == .y, colorChannels == 3, let residual, let chroma {
            return packYToRGB8(residual: residual.0, chroma: chroma, into: dst)
        }
        packAny(withAlpha: withAlpha, sampleBits: sampleBits, into: dst)
    }

    /// `pack` of a y model's rows with a residual and no alpha, as 8-bit RGB: `packYToRGB8(y:...)`.
    private func packYToRGB8(residual: UnsafePointer<Float>, chroma: (cb: UnsafePointer<Float>, cr: UnsafePointer<Float>),
                             into dst: UnsafeMutablePointer<UInt8>) {
        ColourRow.packYToRGB8(y: stack.0, residual: residual, cb: chroma.cb, cr: chroma.cr, count: count, toRGB: toRGB,
                              into: dst)
    }

    /// Pixels 0 ..< count of a y model's rows with a residual and no alpha, as 8-bit RGB into `dst`
    /// (count, 3): per pixel the same operations as `pixels` then `PixelPacking.quantize` lane by
    /// lane (so the same bytes), written as a plain loop over the pixels, which the optimizer
    /// vectorizes whole (16 pixels per AVX-512 step, the interleaved RGB stores included). The SIMD8
    /// code of `packAny` left its selects and the byte interleave partly lane by lane: this loop is
    /// about 4× faster (measured, Zen 4). The clamp to [0, 1] is folded into the quantizer
    /// (`sample8`: s = value·255 clamped to [0, 255], NaN to 0, gives quantize(clamp(value)) for
    /// every Float, checked over all 2³² of them; the sample is the low byte of s + 2²³).
    @inline(__always)
    static func packYToRGB8(y: UnsafePointer<Float>, residual: UnsafePointer<Float>, cb: UnsafePointer<Float>,
                            cr: UnsafePointer<Float>, count: Int, toRGB m: ColorSpace.FloatInverse,
                            into dst: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count {
            // ColorSpace.yCbCrToRGBClampedFloat on one pixel.
            let p0 = (y[i] + residual[i]) - m.b0, p1 = cb[i] - m.b1, p2 = cr[i] - m.b2
            var r = p0 * m.m00, g = p0 * m.m10, b = p0 * m.m20
            r.addProduct(p1, m.m01); g.addProduct(p1, m.m11); b.addProduct(p1, m.m21)
            r.addProduct(p2, m.m02); g.addProduct(p2, m.m12); b.addProduct(p2, m.m22)
            dst[3 &* i] = sample8(r)
            dst[3 &* i &+ 1] = sample8(g)
            dst[3 &* i &+ 2] = sample8(b)
        }
    }

    /// PixelPacking.quantize(clamp(value), maxValue: 255) as a byte, for every Float (NaN → 0).
    @inline(__always)
    static func sample8(_ value: Float) -> UInt8 {
        var s = value * 255
        s = s > 0 ? s : 0   // and NaN
        s = min(s, 255)
        let rounded = s + 8_388_608   // 2^23 + s rounded to an integer (ties to even)
        let t = rounded - 8_388_608
        var q = rounded.bitPattern    // the integer in its low bits
        if s - t == 0.5 { q &+= 1 }   // a tie goes up
        return UInt8(truncatingIfNeeded: q)
    }

    /// Input columns per chunk of `packBicubicYToRGB8`: its three float rows of a chunk (3 × factor·64
    /// floats, ≤ 3 KiB) stay in the L1 cache between the width pass and the packing.
    static let chunkColumns = 64

    /// A y model's output row with its bicubic residual, no alpha, as 8-bit RGB, from the height
    /// pass's rows: `stack` (the model's row, factor·W), `short` the height pass's rows of the Y
    /// residual, Cb and Cr (W each). The same bytes as `bicubicRowFloat` of the three rows then
    /// `pack` (the same sums, then `packYToRGB8`), without the three float rows in memory: chunk by
    /// chunk of `chunkColumns` input columns, the width pass of the three rows
    /// (`Resize.widthPassInteriorFloat3` in the interior, gathered at the borders) into buffers
    /// that stay in the L1 cache, each chunk then packed. Needs `taps.uniformPhases`.
    static func packBicubicYToRGB8(stack y: UnsafePointer<Float>,
                                   short: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                   taps t: FloatBicubicPointers, into dst: UnsafeMutablePointer<UInt8>) {
        precondition(t.uniformPhases, "packBicubicYToRGB8: taps without uniform phases")
        let (f, outWidth, toRGB) = (t.factor, t.outWidth, ColorSpace.inverseFloat)
        let lo = t.interior.lowerBound
        let vectorEnd = lo + t.interior.count / 8 * 8
        let chunkOutputs = f * chunkColumns
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * chunkOutputs) { buffer in
            // (3, chunkOutputs): the residual's, Cb's and Cr's values of the chunk's outputs.
            let rows = (buffer.baseAddress!, buffer.baseAddress! + chunkOutputs, buffer.baseAddress! + 2 * chunkOutputs)
            func pack(_ outputs: Range<Int>) {
                packYToRGB8(y: y + outputs.lowerBound, residual: rows.0, cb: rows.1, cr: rows.2, count: outputs.count,
                            toRGB: toRGB, into: dst + 3 * outputs.lowerBound)
            }
            /// Outputs `outputs` (at most chunkOutputs) through the gather, then packed.
            func gathered(_ outputs: Range<Int>) {
                for o in outputs {
                    let k = o - outputs.lowerBound
                    rows.0[k] = Resize.widthPassOutputFloat(t, input: short.0, output: o)
                    rows.1[k] = Resize.widthPassOutputFloat(t, input: short.1, output: o)
                    rows.2[k] = Resize.widthPassOutputFloat(t, input: short.2, output: o)
                }
                pack(outputs)
            }
            for o in stride(from: 0, to: f * lo, by: chunkOutputs) { gathered(o..<min(o + chunkOutputs, f * lo)) }
            for x in stride(from: lo, to: vectorEnd, by: chunkColumns) {
                let xs = x..<min(x + chunkColumns, vectorEnd)
                Resize.widthPassInteriorFloat3(t, inputs: short, xs: xs, into: rows)
                pack((f * xs.lowerBound)..<(f * xs.upperBound))
            }
            for o in stride(from: f * vectorEnd, to: outWidth, by: chunkOutputs) { gathered(o..<min(o + chunkOutputs, outWidth)) }
        }
    }

    /// `pack` for any layout.
    private func packAny(withAlpha: Bool, sampleBits: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let maxValue: Float = sampleBits == 16 ? 65535 : 255
        let channels = colorChannels + (withAlpha ? 1 : 0)
        let pixelBytes = channels * sampleBits / 8
        var i = 0
        while i < count {
            let lanes = min(8, count - i)
            let (c0, c1, c2, a) = pixels(i, lanes: lanes)
            let q0 = PixelPacking.quantize(c0, maxValue: maxValue)
            let none = SIMD8<Int32>()
            let qa = withAlpha ? PixelPacking.quantize(a, maxValue: maxValue) : none
            let samples = colorChannels == 3
                ? (q0, PixelPacking.quantize(c1, maxValue: maxValue), PixelPacking.quantize(c2, maxValue: maxValue), qa)
                : (q0, qa, none, none)
            PixelPacking.storePixels(samples, channels: channels, sampleBits: sampleBits, lanes: lanes,
                                     spareByte: i + 8 < count, into: dst + i * pixelBytes)
            i += lanes
        }
    }

    /// min(max(x, 0), 1) per lane, NaN and −0 as Model.clamp gives them.
    @_transparent
    static func clamp(_ x: V) -> V {
        var v = x
        v.replace(with: 0, where: v .<= 0)
        v.replace(with: 1, where: v .> 1)
        return v
    }

    /// Un-premultiplies 8 pixels: min(p / a, 1) where a > 0, else 0 (p ≤ a: no division passes 1).
    @_transparent
    static func unpremultiply(_ p: V, _ a: V) -> V {
        var c = (p / a).replacing(with: 1, where: p .> a)
        c.replace(with: 0, where: .!(a .> 0))
        return c
    }

    /// Values p[i ..< i + lanes], zero after them.
    @_transparent
    static func load(_ p: UnsafePointer<Float>, _ i: Int, _ lanes: Int) -> V {
        if lanes == 8 { return UnsafeRawPointer(p + i).loadUnaligned(as: V.self) }
        var v = V()
        for k in 0..<lanes { v[k] = p[i + k] }
        return v
    }

    /// The first `lanes` values of v into p.
    @_transparent
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
        if lanes == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self); return }
        for k in 0..<lanes { p[k] = v[k] }
    }
}
