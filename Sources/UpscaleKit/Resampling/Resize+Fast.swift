// The resize passes the engine runs: the scalar passes of Resize+Reference.swift vectorized across
// output elements, with the same sums bit for bit (each lane: acc = 0, then acc = acc + w·x tap by
// tap in the reference's order, a separate × and +; then finish). Tested against the reference in
// ResizeFastTests.
//
//   height pass  output row o = Σ_j weight[o, j] · input row index[o, j]: 8 columns at a time
//   width pass   integer factor f, phase p = o mod f, x = o div f: inside `interior` the outputs
//                o = f·x + p read the consecutive inputs x + shift[p] + j, so 8 outputs of one
//                phase are a sliding window over the row, each with its own weights (phaseWeight);
//                border outputs (mirrored taps) and non-integer scales take the scalar gather.

extension Resize {
    /// One axis's taps for the width pass, with the phase-major copy its vector loop reads.
    struct WidthTaps: Sendable {
        let contributions: Contributions
        let usedTaps: Range<Int>   // taps nonzero for some output (the reference's jLo..<jHi)
        let factor: Int            // outLength / inLength; 0 when no interior (non-integer scale, tiny axis)
        let interior: Range<Int>   // inputs x whose outputs f·x + p (every p) read x + shift[p] + j, j ∈ 0..<used
        let shift: [Int]           // (factor)
        let phaseWeight: [Double]  // (factor, used, interior.count)
        var outLength: Int { contributions.index.count / contributions.taps }

        /// `body` with the tables as raw pointers (valid only inside `body`).
        func withPointers<R>(_ body: (WidthTapPointers) throws -> R) rethrows -> R {
            try contributions.weight.withUnsafeBufferPointer { weight in
                try contributions.index.withUnsafeBufferPointer { index in
                    try shift.withUnsafeBufferPointer { shift in
                        try phaseWeight.withUnsafeBufferPointer { phaseWeight in
                            try body(WidthTapPointers(
                                taps: contributions.taps, usedTaps: usedTaps, factor: factor, interior: interior,
                                outLength: outLength, weight: start(weight), index: start(index),
                                shift: start(shift), phaseWeight: start(phaseWeight)))
                        }
                    }
                }
            }
        }

        init(_ c: Contributions, inLength: Int) {
            let taps = c.taps
            let outLength = c.index.count / taps
            let used = (0..<taps).filter { j in (0..<outLength).contains { c.weight[$0 * taps + j] != 0 } }
            let usedTaps = (used.first ?? 0)..<((used.last ?? -1) + 1)
            // The first input output o reads when its used taps read consecutive inputs, else nil.
            func start(_ o: Int) -> Int? {
                let first = c.index[o * taps + usedTaps.lowerBound]
                for j in usedTaps where c.index[o * taps + j] != first + (j - usedTaps.lowerBound) { return nil }
                return first
            }
            var (factor, interior, shift) = (0, 0..<0, [Int]())
            let f = outLength % inLength == 0 ? outLength / inLength : 0
            let mid = inLength / 2
            if f > 0 && !usedTaps.isEmpty, case let starts = (0..<f).map({ start(f * mid + $0) }),
               !starts.contains(nil) {
                shift = starts.map { $0! - mid }
                func regular(_ x: Int) -> Bool { (0..<f).allSatisfy { start(f * x + $0) == x + shift[$0] } }
                var (lo, hi) = (mid, mid + 1)
                while lo > 0 && regular(lo - 1) { lo -= 1 }
                while hi < inLength && regular(hi) { hi += 1 }
                (factor, interior) = (f, lo..<hi)
            }
            // src = weight (outLength, taps) / dst = phaseWeight (factor, used, interior.count):
            // phaseWeight[(p·used + j)·n + x − interior.lowerBound] = weight[(f·x + p)·taps + usedTaps.lowerBound + j]
            let n = interior.count
            var phaseWeight = [Double](repeating: 0, count: factor * usedTaps.count * n)
            for p in 0..<factor {
                for j in 0..<usedTaps.count {
                    for x in interior {
                        phaseWeight[(p * usedTaps.count + j) * n + x - interior.lowerBound] =
                            c.weight[(factor * x + p) * taps + usedTaps.lowerBound + j]
                    }
                }
            }
            self.contributions = c
            self.usedTaps = usedTaps
            self.factor = factor
            self.interior = interior
            self.shift = shift
            self.phaseWeight = phaseWeight
        }
    }

    /// Output rows `outRows` of the height pass whose taps are `c`, from `t`, which holds the
    /// input rows `rowOrigin ..< rowOrigin + t.shape[2]` (all the rows those output rows tap).
    // src = (N, C, band rows, W) / dst = (N, C, outRows.count, W): each worker owns whole output rows of one plane.
    static func resizeRows(_ t: Tensor, rowOrigin: Int, rows c: Contributions, outRows: Range<Int>,
                           quantize: Bool, threads: Int) -> Tensor {
        let (planes, inH, w) = (t.shape[0] * t.shape[1], t.shape[2], t.shape[3])
        let outH = outRows.count
        return Tensor(shape: [t.shape[0], t.shape[1], outH, w]) { buffer in
            t.withUnsafeBufferPointer { src in
                c.withPointers { taps in
                    guard let dst = buffer.baseAddress, let src = src.baseAddress else { return }
                    parallelFor(planes * outH, threads: threads) { item in
                        let (plane, k) = (item / outH, item % outH)
                        heightPassRow(taps, plane: src + plane * inH * w, rowOrigin: rowOrigin, width: w,
                                      output: outRows.lowerBound + k, quantize: quantize,
                                      into: dst + (plane * outH + k) * w)  // written by this item only
                    }
                }
            }
        }
    }

    /// The height pass's output row `o` of one plane: `plane` (rows, width) holds the input rows
    /// from `rowOrigin` on, all the rows `o` taps; the row goes to `row` (width).
    @inline(__always)
    static func heightPassRow(_ c: ContributionPointers, plane src: UnsafePointer<Float>, rowOrigin: Int, width w: Int,
                              output o: Int, quantize: Bool, into row: UnsafeMutablePointer<Float>) {
        let (taps, weight, index) = (c.taps, c.weight, c.index)
        func input(_ j: Int) -> UnsafePointer<Float> { src + (index[o * taps + j] - rowOrigin) * w }
        var x = 0
        while x + 8 <= w {
            var acc = SIMD8<Double>(repeating: 0)
            for j in 0..<taps where weight[o * taps + j] != 0 {
                acc = acc + weight[o * taps + j] * loadDoubles(input(j) + x)
            }
            store(finish(acc, quantize: quantize), row + x)
            x += 8
        }
        while x < w {
            var acc = 0.0
            for j in 0..<taps where weight[o * taps + j] != 0 { acc += weight[o * taps + j] * Double(input(j)[x]) }
            row[x] = finish(acc, quantize: quantize)
            x += 1
        }
    }

    // src = (N, C, H, W) / dst = (N, C, H, outW) with the taps `plan`: each worker owns whole rows.
    static func resizeWidth(_ t: Tensor, taps plan: WidthTaps, quantize: Bool, threads: Int) -> Tensor {
        let (rows, inW) = (t.shape[0] * t.shape[1] * t.shape[2], t.shape[3])
        let outW = plan.outLength
        precondition(outW == 0 || plan.interior.isEmpty || inW * plan.factor == outW, "resizeWidth: taps made for another width")
        return Tensor(shape: [t.shape[0], t.shape[1], t.shape[2], outW]) { buffer in
            t.withUnsafeBufferPointer { src in
                plan.withPointers { taps in
                    guard let dst = buffer.baseAddress, let src = src.baseAddress else { return }
                    parallelFor(rows, threads: threads) { r in
                        widthPassRow(taps, input: src + r * inW, quantize: quantize, into: dst + r * outW)  // row r is this item's only
                    }
                }
            }
        }
    }

    /// The width pass of one row: `input` (the plan's inLength) → `output` (its outLength).
    @inline(__always)
    static func widthPassRow(_ plan: WidthTapPointers, input: UnsafePointer<Float>, quantize: Bool,
                             into output: UnsafeMutablePointer<Float>) {
        let (taps, used, f, weight, index) = (plan.taps, plan.usedTaps, plan.factor, plan.weight, plan.index)
        // Inputs x in lo..<vectorEnd go 8 at a time through the phase loop; the other outputs are gathered.
        let (lo, n) = (plan.interior.lowerBound, plan.interior.count)
        let vectorEnd = lo + n / 8 * 8
        func gather(_ o: Int) {
            var acc = 0.0
            for j in used { acc += weight[o * taps + j] * Double(input[index[o * taps + j]]) }
            output[o] = finish(acc, quantize: quantize)
        }
        for o in 0..<(f * lo) { gather(o) }
        // 8 outputs of phase p at inputs x ..< x + 8.
        func phase(_ p: Int, _ x: Int) -> SIMD8<Float> {
            let first = input + x + plan.shift[p]
            let w = plan.phaseWeight + p * used.count * n + (x - lo)
            var acc = SIMD8<Double>(repeating: 0)
            for j in 0..<used.count { acc = acc + loadDoubles(w + j * n) * loadDoubles(first + j) }
            return finish(acc, quantize: quantize)
        }
        for x in stride(from: lo, to: vectorEnd, by: 8) {
            if f == 2 {
                // src = phases 0 and 1 of x ..< x + 8 / dst = outputs 2x ..< 2x + 16, interleaved
                let (a, b) = (phase(0, x), phase(1, x))
                store(SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3],
                             a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]), output + 2 * x)
                continue
            }
            if f == 3 {
                // src = phases 0, 1, 2 of x ..< x + 8 / dst = outputs 3x ..< 3x + 24, interleaved
                let (a, b, c) = (phase(0, x), phase(1, x), phase(2, x))
                store(SIMD16(a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2], a[3], b[3], c[3],
                             a[4], b[4], c[4], a[5]), output + 3 * x)
                store(SIMD8(b[5], c[5], a[6], b[6], c[6], a[7], b[7], c[7]), output + 3 * x + 16)
                continue
            }
            if f == 4 {
                // src = phases 0 ... 3 of x ..< x + 8 / dst = outputs 4x ..< 4x + 32, interleaved
                let (a, b, c, d) = (phase(0, x), phase(1, x), phase(2, x), phase(3, x))
                store(SIMD16(a[0], b[0], c[0], d[0], a[1], b[1], c[1], d[1],
                             a[2], b[2], c[2], d[2], a[3], b[3], c[3], d[3]), output + 4 * x)
                store(SIMD16(a[4], b[4], c[4], d[4], a[5], b[5], c[5], d[5],
                             a[6], b[6], c[6], d[6], a[7], b[7], c[7], d[7]), output + 4 * x + 16)
                continue
            }
            for p in 0..<f {
                let v = phase(p, x)
                for i in 0..<8 { output[f * (x + i) + p] = v[i] }
            }
        }
        for o in (f * vectorEnd)..<plan.outLength { gather(o) }
    }

    /// `finish` on 8 sums.
    @inline(__always)
    private static func finish(_ acc: SIMD8<Double>, quantize: Bool) -> SIMD8<Float> {
        if !quantize { return SIMD8(lowHalf: SIMD4<Float>(acc.lowHalf), highHalf: SIMD4<Float>(acc.highHalf)) }
        var v = SIMD8<Float>()
        for i in 0..<8 { v[i] = finish(acc[i], quantize: true) }
        return v
    }
}

/// A `WidthTaps` as raw pointers, for the row loops (see `WidthTaps.withPointers`).
struct WidthTapPointers {
    let taps: Int
    let usedTaps: Range<Int>
    let factor: Int
    let interior: Range<Int>
    let outLength: Int
    let weight: UnsafePointer<Double>, index: UnsafePointer<Int>
    let shift: UnsafePointer<Int>, phaseWeight: UnsafePointer<Double>
}

/// `Resize.Contributions` as raw pointers, for the row loops (see `Contributions.withPointers`).
struct ContributionPointers {
    let taps: Int
    let weight: UnsafePointer<Double>, index: UnsafePointer<Int>
}

extension Resize.Contributions {
    /// `body` with the tables as raw pointers (valid only inside `body`).
    func withPointers<R>(_ body: (ContributionPointers) throws -> R) rethrows -> R {
        try weight.withUnsafeBufferPointer { weight in
            try index.withUnsafeBufferPointer { index in
                try body(ContributionPointers(taps: taps, weight: start(weight), index: start(index)))
            }
        }
    }
}

/// The first element of `buffer`; for an empty buffer (nothing is read from it) a non-null
/// placeholder, so that the pointer structs need no optionals.
private func start<T>(_ buffer: UnsafeBufferPointer<T>) -> UnsafePointer<T> {
    buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<T>.alignment)!
}

/// 8 floats from `p` (any alignment), widened to Double.
@inline(__always)
private func loadDoubles(_ p: UnsafePointer<Float>) -> SIMD8<Double> {
    SIMD8<Double>(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self))
}

/// 8 Doubles from `p` (any alignment).
@inline(__always)
private func loadDoubles(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
}

@inline(__always)
private func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

// The colour stage's bicubic (Pipeline/Model+Stream.swift, colorRows): the same taps as
// `BicubicTaps`, the weights rounded to Float, each output the sum Σ_j w_j·x_j in Float with a
// fused multiply-add per tap in tap order (acc = fma(w_j, x_j, acc) from acc = 0). Not the
// MATLAB-exact passes above (those stay in Double for training and evaluation): within a few
// Float ulps of them, which is far below the output's 8- or 16-bit step (ColourRowTests checks
// the packed samples within ±1 of the Double formulas). Each output's operations depend only
// on its position, so the rows are the same bits for any band, tile or thread count.
//
//   height pass  output row o = Σ_j weight[o, j] · input row index[o, j]: 16 columns at a time
//   width pass   as `widthPassRow`: phase p of inputs x ..< x + 8 reads x + shift[p] + j with
//                its own weights; borders gathered
//   three rows   the colour stage's residual, Cb and Cr rows (widthPassInteriorFloat3): at factors
//                2 ... 4 every interior position of phase p has the same 4 Float weights (checked
//                when the taps are made: `uniformPhases`), so they are held in registers, not read
//                per position; the same sums
extension Resize {
    /// `BicubicTaps` with Float weights: rows (sH, taps), columns phase-major (factor, used, interior).
    struct FloatBicubicTaps: Sendable {
        let rowTaps: Int
        let rowIndex: [Int]       // (sH, rowTaps), as taps.rows.index
        let rowWeight: [Float]    // (sH, rowTaps)
        let colTaps: Int
        let usedCols: Range<Int>
        let factor: Int
        let interior: Range<Int>
        let outWidth: Int
        let colIndex: [Int]       // (sW, colTaps)
        let colWeight: [Float]    // (sW, colTaps)
        let shift: [Int]          // (factor)
        let phaseWeight: [Float]  // (factor, used, interior.count)
        /// Whether the factor is 2 ... 4 with 4 used taps and each phase's weights the same bits at
        /// every interior position (`phaseWeight[p, j, x] == phaseWeight[p, j, interior.lowerBound]`),
        /// as they are for the bicubic's integer factors: then `widthPassInteriorFloat3` applies.
        let uniformPhases: Bool

        init(_ taps: BicubicTaps) {
            rowTaps = taps.rows.taps
            rowIndex = taps.rows.index
            rowWeight = taps.rows.weight.map { Float($0) }
            let cols = taps.colsByPhase
            colTaps = cols.contributions.taps
            usedCols = cols.usedTaps
            factor = cols.factor
            interior = cols.interior
            outWidth = cols.outLength
            colIndex = cols.contributions.index
            colWeight = cols.contributions.weight.map { Float($0) }
            shift = cols.shift
            let phaseWeight = cols.phaseWeight.map { Float($0) }
            self.phaseWeight = phaseWeight
            let n = cols.interior.count
            uniformPhases = (2...4).contains(cols.factor) && cols.usedTaps.count == 4 && n > 0
                && (0..<(cols.factor * 4)).allSatisfy { pj in
                    phaseWeight[(pj * n)..<((pj + 1) * n)].allSatisfy { $0.bitPattern == phaseWeight[pj * n].bitPattern }
                }
        }

        /// `body` with the tables as raw pointers (valid only inside `body`).
        func withPointers<R>(_ body: (FloatBicubicPointers) throws -> R) rethrows -> R {
            try rowIndex.withUnsafeBufferPointer { rowIndex in
            try rowWeight.withUnsafeBufferPointer { rowWeight in
            try colIndex.withUnsafeBufferPointer { colIndex in
            try colWeight.withUnsafeBufferPointer { colWeight in
            try shift.withUnsafeBufferPointer { shift in
            try phaseWeight.withUnsafeBufferPointer { phaseWeight in
                try body(FloatBicubicPointers(
                    rowTaps: rowTaps, rowIndex: start(rowIndex), rowWeight: start(rowWeight), colTaps: colTaps,
                    usedCols: usedCols, factor: factor, interior: interior, outWidth: outWidth,
                    colIndex: start(colIndex), colWeight: start(colWeight), shift: start(shift),
                    phaseWeight: start(phaseWeight), uniformPhases: uniformPhases))
            }
            }
            }
            }
            }
            }
        }
    }

    /// Output row `o` of the Float bicubic upscale of one plane: `plane` (rows, width) holds the
    /// input rows from `rowOrigin` on (all the rows o taps); `short` (width) takes the height
    /// pass, `row` (factor·width) the result.
    @inline(__always)
    static func bicubicRowFloat(_ t: FloatBicubicPointers, plane: UnsafePointer<Float>, rowOrigin: Int, width w: Int,
                                output o: Int, short: UnsafeMutablePointer<Float>, into row: UnsafeMutablePointer<Float>) {
        heightPassRowFloat(t, plane: plane, rowOrigin: rowOrigin, width: w, output: o, into: short)
        widthPassRowFloat(t, input: short, into: row)
    }

    /// `heightPassRowFloat` of three planes of the same size at once (a y model's Y, Cb and Cr):
    /// plane r's output row `o` into `rows.r`. The same sums per plane (the nonzero taps of row o in
    /// order, fused multiply-adds from 0), one loop over the columns for the three.
    @inline(__always)
    static func heightPassRowsFloat3(_ t: FloatBicubicPointers,
                                     planes: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                     rowOrigin: Int, width w: Int, output o: Int,
                                     into rows: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        let (offsets, weights, used) = heightTapsFloat(t, rowOrigin: rowOrigin, width: w, output: o)
        typealias V = SIMD16<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var x = 0
        while x + 16 <= w {
            var (a0, a1, a2) = (V(), V(), V())
            for k in 0..<used {
                let (weight, offset) = (V(repeating: weights[k]), offsets[k] + x)
                a0.addProduct(weight, load(planes.0 + offset))
                a1.addProduct(weight, load(planes.1 + offset))
                a2.addProduct(weight, load(planes.2 + offset))
            }
            UnsafeMutableRawPointer(rows.0 + x).storeBytes(of: a0, as: V.self)
            UnsafeMutableRawPointer(rows.1 + x).storeBytes(of: a1, as: V.self)
            UnsafeMutableRawPointer(rows.2 + x).storeBytes(of: a2, as: V.self)
            x += 16
        }
        while x < w {
            var (a0, a1, a2): (Float, Float, Float) = (0, 0, 0)
            for k in 0..<used {
                a0.addProduct(weights[k], planes.0[offsets[k] + x])
                a1.addProduct(weights[k], planes.1[offsets[k] + x])
                a2.addProduct(weights[k], planes.2[offsets[k] + x])
            }
            (rows.0[x], rows.1[x], rows.2[x]) = (a0, a1, a2)
            x += 1
        }
    }

    /// The nonzero taps of output row `o` in tap order (at most 4 for an upscale; more only for a
    /// shrink, never here): each one's offset from the first element of a plane `w` wide whose
    /// first row is `rowOrigin`, and its weight; `used` of them.
    @inline(__always)
    static func heightTapsFloat(_ t: FloatBicubicPointers, rowOrigin: Int, width w: Int, output o: Int)
        -> (offsets: SIMD8<Int>, weights: SIMD8<Float>, used: Int) {
        let taps = t.rowTaps
        var offsets = SIMD8<Int>(), weights = SIMD8<Float>()
        var used = 0
        for j in 0..<taps where t.rowWeight[o * taps + j] != 0 {
            precondition(used < 6, "an upscale's row has at most 6 taps")
            offsets[used] = (t.rowIndex[o * taps + j] - rowOrigin) * w
            weights[used] = t.rowWeight[o * taps + j]
            used += 1
        }
        return (offsets, weights, used)
    }

    @inline(__always)
    static func heightPassRowFloat(_ t: FloatBicubicPointers, plane src: UnsafePointer<Float>, rowOrigin: Int,
                                   width w: Int, output o: Int, into row: UnsafeMutablePointer<Float>) {
        let (offsets, weights, used) = heightTapsFloat(t, rowOrigin: rowOrigin, width: w, output: o)
        typealias V = SIMD16<Float>
        var x = 0
        while x + 16 <= w {
            var acc = V()
            for k in 0..<used {
                acc.addProduct(V(repeating: weights[k]), UnsafeRawPointer(src + offsets[k] + x).loadUnaligned(as: V.self))
            }
            UnsafeMutableRawPointer(row + x).storeBytes(of: acc, as: V.self)
            x += 16
        }
        while x < w {
            var acc: Float = 0
            for k in 0..<used { acc.addProduct(weights[k], src[offsets[k] + x]) }
            row[x] = acc
            x += 1
        }
    }

    @inline(__always)
    static func widthPassRowFloat(_ t: FloatBicubicPointers, input: UnsafePointer<Float>,
                                  into output: UnsafeMutablePointer<Float>) {
        let (used, f) = (t.usedCols, t.factor)
        let (lo, n) = (t.interior.lowerBound, t.interior.count)
        let vectorEnd = lo + n / 8 * 8
        for o in 0..<(f * lo) { output[o] = widthPassOutputFloat(t, input: input, output: o) }
        typealias V = SIMD8<Float>
        // 8 outputs of phase p at inputs x ..< x + 8.
        @inline(__always) func phase(_ p: Int, _ x: Int) -> V {
            let first = input + x + t.shift[p]
            let w = t.phaseWeight + p * used.count * n + (x - lo)
            var acc = V()
            for j in 0..<used.count {
                acc.addProduct(UnsafeRawPointer(w + j * n).loadUnaligned(as: V.self),
                               UnsafeRawPointer(first + j).loadUnaligned(as: V.self))
            }
            return acc
        }
        for x in stride(from: lo, to: vectorEnd, by: 8) {
            switch f {
            case 2: storeInterleaved(phase(0, x), phase(1, x), output + 2 * x)
            case 3: storeInterleaved(phase(0, x), phase(1, x), phase(2, x), output + 3 * x)
            case 4: storeInterleaved(phase(0, x), phase(1, x), phase(2, x), phase(3, x), output + 4 * x)
            default:
                for p in 0..<f {
                    let v = phase(p, x)
                    for i in 0..<8 { output[f * (x + i) + p] = v[i] }
                }
            }
        }
        for o in (f * vectorEnd)..<t.outWidth { output[o] = widthPassOutputFloat(t, input: input, output: o) }
    }

    /// Output `o` of the width pass of `input`, gathered through its taps (any o; the borders' way).
    @inline(__always)
    static func widthPassOutputFloat(_ t: FloatBicubicPointers, input: UnsafePointer<Float>, output o: Int) -> Float {
        var acc: Float = 0
        for j in t.usedCols { acc.addProduct(t.colWeight[o * t.colTaps + j], input[t.colIndex[o * t.colTaps + j]]) }
        return acc
    }

    /// The width pass of three rows (a y model's residual, Cb and Cr) over the interior inputs `xs`
    /// (a multiple of 8 of them, inside `interior.lowerBound ..< interior.lowerBound + interior.count / 8 · 8`),
    /// for taps with `uniformPhases`: output f·x + p of row r into `outputs.r[f·(x − xs.lowerBound) + p]`.
    /// Each output the same sum as `widthPassRowFloat`'s (the same weights, taps and order); the
    /// factor's 4f weights are read from a 4f-vector table instead of per position, the 4 taps
    /// are unrolled, and the phases meet in `phase` (4 vectors) before the interleave: computed
    /// straight into the interleave, the optimizer split the sums lane by lane.
    @inline(__always)
    static func widthPassInteriorFloat3(_ t: FloatBicubicPointers,
                                        inputs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
                                        xs: Range<Int>,
                                        into outputs: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        let (f, lo, n) = (t.factor, t.interior.lowerBound, t.interior.count)
        precondition(t.uniformPhases && xs.count % 8 == 0 && xs.lowerBound >= lo && xs.upperBound <= lo + n / 8 * 8,
                     "widthPassInteriorFloat3: inputs outside the uniform interior")
        typealias V = SIMD8<Float>
        withUnsafeTemporaryAllocation(of: V.self, capacity: 20) { table in
            // src = phaseWeight (factor, 4, interior.count) / dst = weight (factor, 4) vectors, every
            // interior position's: weight[4p + j] = phaseWeight[(4p + j)·n] in each lane
            let weight = table.baseAddress!, phase = weight + 16   // phase (4): phase p's 8 outputs
            for pj in 0..<(4 * f) { weight[pj] = V(repeating: t.phaseWeight[pj * n]) }
            let shift = t.shift
            /// Phases 0 ..< f of inputs x ..< x + 8 of `input` into `phase`.
            @inline(__always) func phases(_ input: UnsafePointer<Float>, _ x: Int, factor f: Int) {
                for p in 0..<f {
                    let first = input + x + shift[p]
                    var acc = V()
                    acc.addProduct(weight[4 * p], UnsafeRawPointer(first).loadUnaligned(as: V.self))
                    acc.addProduct(weight[4 * p + 1], UnsafeRawPointer(first + 1).loadUnaligned(as: V.self))
                    acc.addProduct(weight[4 * p + 2], UnsafeRawPointer(first + 2).loadUnaligned(as: V.self))
                    acc.addProduct(weight[4 * p + 3], UnsafeRawPointer(first + 3).loadUnaligned(as: V.self))
                    phase[p] = acc
                }
            }
            let x0 = xs.lowerBound
            switch f {
            case 2:
                for x in stride(from: x0, to: xs.upperBound, by: 8) {
                    let o = 2 * (x - x0)
                    phases(inputs.0, x, factor: 2); storeInterleaved(phase[0], phase[1], outputs.0 + o)
                    phases(inputs.1, x, factor: 2); storeInterleaved(phase[0], phase[1], outputs.1 + o)
                    phases(inputs.2, x, factor: 2); storeInterleaved(phase[0], phase[1], outputs.2 + o)
                }
            case 3:
                for x in stride(from: x0, to: xs.upperBound, by: 8) {
                    let o = 3 * (x - x0)
                    phases(inputs.0, x, factor: 3); storeInterleaved(phase[0], phase[1], phase[2], outputs.0 + o)
                    phases(inputs.1, x, factor: 3); storeInterleaved(phase[0], phase[1], phase[2], outputs.1 + o)
                    phases(inputs.2, x, factor: 3); storeInterleaved(phase[0], phase[1], phase[2], outputs.2 + o)
                }
            default:
                for x in stride(from: x0, to: xs.upperBound, by: 8) {
                    let o = 4 * (x - x0)
                    phases(inputs.0, x, factor: 4); storeInterleaved(phase[0], phase[1], phase[2], phase[3], outputs.0 + o)
                    phases(inputs.1, x, factor: 4); storeInterleaved(phase[0], phase[1], phase[2], phase[3], outputs.1 + o)
                    phases(inputs.2, x, factor: 4); storeInterleaved(phase[0], phase[1], phase[2], phase[3], outputs.2 + o)
                }
            }
        }
    }
}

// The interleaves: pure moves of the bits. The optimizer lowers a shuffle of two sources well; of
// more, it chained a permute per source lane group, so each is built of two-source shuffles.

// src = phases 0 and 1 of inputs x ..< x + 8 / dst = outputs 2x ..< 2x + 16, interleaved
@inline(__always)
private func storeInterleaved(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    store(SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]), p)
}

// src = phases 0, 1, 2 of inputs x ..< x + 8 / dst = outputs 3x ..< 3x + 24, interleaved: each
// output vector the bitwise or of two two-source shuffles with zeros in the other's lanes
@inline(__always)
private func storeInterleaved(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    let z: Float = 0
    func bits<V: SIMD>(_ v: V) -> V.MaskStorage where V.Scalar == Float { unsafeBitCast(v, to: V.MaskStorage.self) }
    let ab = SIMD16(a[0], b[0], z, a[1], b[1], z, a[2], b[2], z, a[3], b[3], z, a[4], b[4], z, a[5])
    let cc = SIMD16(z, z, c[0], z, z, c[1], z, z, c[2], z, z, c[3], z, z, c[4], z)
    let abTail = SIMD8(z, z, a[6], b[6], z, a[7], b[7], z)
    let bcTail = SIMD8(b[5], c[5], z, z, c[6], z, z, c[7])
    UnsafeMutableRawPointer(p).storeBytes(of: bits(ab) | bits(cc), as: SIMD16<Int32>.self)
    UnsafeMutableRawPointer(p + 16).storeBytes(of: bits(abTail) | bits(bcTail), as: SIMD8<Int32>.self)
}

// src = phases 0 ... 3 of inputs x ..< x + 8 / dst = outputs 4x ..< 4x + 32, interleaved
@inline(__always)
private func storeInterleaved(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>,
                              _ p: UnsafeMutablePointer<Float>) {
    let ab = unsafeBitCast(SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]),
                           to: SIMD8<UInt64>.self)
    let cd = unsafeBitCast(SIMD16(c[0], d[0], c[1], d[1], c[2], d[2], c[3], d[3], c[4], d[4], c[5], d[5], c[6], d[6], c[7], d[7]),
                           to: SIMD8<UInt64>.self)
    UnsafeMutableRawPointer(p).storeBytes(of: SIMD8(ab[0], cd[0], ab[1], cd[1], ab[2], cd[2], ab[3], cd[3]), as: SIMD8<UInt64>.self)
    UnsafeMutableRawPointer(p + 16).storeBytes(of: SIMD8(ab[4], cd[4], ab[5], cd[5], ab[6], cd[6], ab[7], cd[7]), as: SIMD8<UInt64>.self)
}

/// A `FloatBicubicTaps` as raw pointers, for the row loops.
struct FloatBicubicPointers {
    let rowTaps: Int
    let rowIndex: UnsafePointer<Int>, rowWeight: UnsafePointer<Float>
    let colTaps: Int
    let usedCols: Range<Int>
    let factor: Int
    let interior: Range<Int>
    let outWidth: Int
    let colIndex: UnsafePointer<Int>, colWeight: UnsafePointer<Float>
    let shift: UnsafePointer<Int>, phaseWeight: UnsafePointer<Float>
    let uniformPhases: Bool
}
