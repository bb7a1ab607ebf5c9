// The fast conv_transpose2d kernel: sub-pixel phases (see ConvTranspose2D+Plan.swift for the math),
// a zero-padded input band per work item, and a register-blocked micro-kernel.
//
// Alphabet: n batch, grp group, ci input channel in the group, qh/qw output row/column inside a
// phase (oh = qh·sH + rh), t tap of the phase, bw band width (columns), chS band channel stride.
//
// Work split: one item = (n, grp, block of `rowsPerItem` qh rows). An item owns the output rows
// oh = qh·sH + rh (all phases rh) of those qh, for the Cout/groups channels of its group; items
// therefore write disjoint memory. Each item copies the input rows it reads into its own band
// (cInG, bandRows, bw), zero outside the input, so the kernels never test bounds.
//
// Micro-kernels (one generic body over `KernelVector`, instantiated for SIMD8<Float> and Float):
//   channelTile: 4 output channels × 3 vectors of one row  -> 12 accumulators, 3 loads + 4 broadcasts per tap
//   rowTile:     4 rows × 3 vectors of one output channel   -> 12 accumulators (layers with Cout/g < 4)
// Tails (width not a multiple of 3 vectors, rows not a multiple of 4, channels not a multiple
// of 4) are done by the same kernels with clamped indices: the duplicated elements are computed
// in the same order and stored with the same bits. Widths < 8 use the Float instantiation.

enum ConvTranspose2DFast {
    /// input (N, Cin, H, W), weight (Cin, Cout/g, kH, kW), bias (Cout) -> output (N, Cout, Hout, Wout)
    static func run(_ g: ConvTranspose2DGeometry, input: [Float], weight: [Float], bias: [Float]?,
                    threads: Int) -> [Float] {
        // Validated already by `g`; building a plan cannot fail.
        guard let plan = try? ConvTranspose2DPlan(
            weight: Tensor(shape: [g.inChannels, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth], data: weight),
            bias: bias.map { Tensor(shape: [$0.count], data: $0) },
            stride: (g.strideH, g.strideW), padding: (g.padH, g.padW),
            outputPadding: (g.outPadH, g.outPadW), groups: g.groups,
            dilation: (g.dilationH, g.dilationW)) else {
            preconditionFailure("conv_transpose2d: geometry \(g) validated but the plan refused it")
        }
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                run(plan, g, input: x, output: y, threads: threads)
            }
        }
        return out
    }

    /// Runs `plan` on `input` (N, Cin, H, W) into `output` (N, Cout, Hout, Wout).
    static func run(_ plan: ConvTranspose2DPlan, _ g: ConvTranspose2DGeometry,
                    input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                    threads: Int) {
        let pt = plan.phases
        let (sH, sW, oH, oW) = (g.strideH, g.strideW, g.outHeight, g.outWidth)
        let (cInG, cOutG, H, W) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.inHeight, g.inWidth)
        let qhCount = (oH + sH - 1) / sH          // rows of phase rh = 0, the tallest
        let qwCount = (oW + sW - 1) / sW
        let bw = qwCount + pt.maxOffW - pt.minOffW
        let perGroup = g.batch * g.groups
        var rowsPerItem = 4
        while rowsPerItem > 1 && perGroup * ((qhCount + rowsPerItem - 1) / rowsPerItem) < 4 * max(1, threads) {
            rowsPerItem -= 1
        }
        let blocksPerImage = (qhCount + rowsPerItem - 1) / rowsPerItem
        let bandRows = rowsPerItem + pt.maxOffH - pt.minOffH
        let chS = bandRows * bw
        let kind = plan.kernelKind
        let blockWidth = kind.blockWidth
        let coBlocks = (cOutG + blockWidth - 1) / blockWidth

        // Per phase: tap offsets inside the band (pure geometry) and where its weights start.
        var tapOffsets: [Int] = []             // (phase, tap): (offH − minOffH)·bw + (offW − minOffW)
        var phaseTapStart: [Int] = []
        var phaseWeightStart: [Int] = []       // into packed, for group 0
        var weightCursor = 0
        for phase in pt.phases {
            phaseTapStart.append(tapOffsets.count)
            phaseWeightStart.append(weightCursor)
            for tap in phase.taps {
                tapOffsets.append((tap.offH - pt.minOffH) * bw + (tap.offW - pt.minOffW))
            }
            weightCursor += coBlocks * cInG * phase.taps.count * blockWidth
        }
        let groupWeightStride = weightCursor
        let bias = plan.bias ?? [Float](repeating: 0, count: g.outChannels)
        let mode = ActivationMode(plan.epilogue)

        let inputBase = input.baseAddress!
        let outputBase = output.baseAddress!
        tapOffsets.withUnsafeBufferPointer { tapsAll in
        plan.packed.withUnsafeBufferPointer { packedAll in
        bias.withUnsafeBufferPointer { biasAll in
        plan.negativeSlopes.withUnsafeBufferPointer { slopesAll in
            // Each worker takes whole items; see the header for what an item owns.
            parallelFor(perGroup * blocksPerImage, threads: threads) { item in
                let block = item % blocksPerImage
                let ng = item / blocksPerImage
                let (n, grp) = (ng / g.groups, ng % g.groups)
                let qh0 = block * rowsPerItem
                let band = UnsafeMutablePointer<Float>.allocate(capacity: cInG * chS)
                defer { band.deallocate() }
                // The band: input rows qh0 + minOffH ..< qh0 + minOffH + bandRows, columns
                // minOffW ..< minOffW + bw, of this item's image and group; zero outside the input.
                band.initialize(repeating: 0, count: cInG * chS)
                let colLo = max(0, pt.minOffW), colHi = min(W, pt.minOffW + bw)
                if colLo < colHi {
                    for ci in 0..<cInG {
                        let src = inputBase + (n * g.inChannels + grp * cInG + ci) * H * W
                        for r in 0..<bandRows {
                            let ih = qh0 + pt.minOffH + r
                            if ih < 0 || ih >= H { continue }
                            (band + ci * chS + r * bw + (colLo - pt.minOffW))
                                .update(from: src + ih * W + colLo, count: colHi - colLo)
                        }
                    }
                }
                let outGroup = outputBase + (n * g.outChannels + grp * cOutG) * oH * oW
                for (p, phase) in pt.phases.enumerated() {
                    let rowsInPhase = phase.rh < oH ? (oH - phase.rh + sH - 1) / sH : 0
                    let colsInPhase = phase.rw < oW ? (oW - phase.rw + sW - 1) / sW : 0
                    let qhEnd = min(qh0 + rowsPerItem, rowsInPhase)
                    if qhEnd <= qh0 || colsInPhase == 0 { continue }
                    let tile = TileSetup(
                        band: UnsafePointer(band), channelStride: chS, bandWidth: bw, cIn: cInG,
                        taps: tapsAll.baseAddress! + phaseTapStart[p], tapCount: phase.taps.count,
                        outStride: sW, mode: mode)
                    let weights = packedAll.baseAddress! + grp * groupWeightStride + phaseWeightStart[p]
                    let blockStride = cInG * phase.taps.count * blockWidth
                    let biasG = biasAll.baseAddress! + grp * cOutG
                    let slopeG = slopesAll.baseAddress! + grp * cOutG
                    // Output (qh, qw) of channel co lives at outGroup + (co·oH + qh·sH + rh)·oW + qw·sW + rw.
                    func outRow(_ co: Int, _ qh: Int) -> UnsafeMutablePointer<Float> {
                        outGroup + (co * oH + qh * sH + phase.rh) * oW + phase.rw
                    }
                    switch kind {
                    case .channels:
                        for qh in qh0..<qhEnd {
                            for cb in 0..<coBlocks {
                                let co = (min(cb * 4, cOutG - 1), min(cb * 4 + 1, cOutG - 1),
                                          min(cb * 4 + 2, cOutG - 1), min(cb * 4 + 3, cOutG - 1))
                                let outs = (outRow(co.0, qh), outRow(co.1, qh), outRow(co.2, qh), outRow(co.3, qh))
                                let b = (biasG[co.0], biasG[co.1], biasG[co.2], biasG[co.3])
                                let s = (slopeG[co.0], slopeG[co.1], slopeG[co.2], slopeG[co.3])
                                let x = tile.band + (qh - qh0) * bw
                                let w = weights + cb * blockStride
                                sweepColumns(colsInPhase) { width, c in
                                    tile.channelTile(width, x: x, cols: c, w: w, bias: b, slopes: s, out: outs)
                                }
                            }
                        }
                    case .rows:
                        for co in 0..<cOutG {
                            let w = weights + co * blockStride
                            var qh = qh0
                            while qh < qhEnd {
                                let r = (qh, min(qh + 1, qhEnd - 1), min(qh + 2, qhEnd - 1), min(qh + 3, qhEnd - 1))
                                let rowOffsets = ((r.0 - qh0) * bw, (r.1 - qh0) * bw, (r.2 - qh0) * bw, (r.3 - qh0) * bw)
                                let outs = (outRow(co, r.0), outRow(co, r.1), outRow(co, r.2), outRow(co, r.3))
                                sweepColumns(colsInPhase) { width, c in
                                    tile.rowTile(width, rows: rowOffsets, cols: c, w: w, bias: biasG[co],
                                                 slope: slopeG[co], out: outs)
                                }
                                qh += 4
                            }
                        }
                    }
                }
            }
        }
        }
        }
        }
    }

    /// Calls `body` with column triples covering 0..<count: SIMD8 vectors where count ≥ 8,
    /// single floats otherwise. A short last triple is clamped back inside the row (re-doing
    /// some columns, which yields the same bits).
    @inline(__always)
    static func sweepColumns(_ count: Int, _ body: (KernelWidth, (Int, Int, Int)) -> Void) {
        let lanes = count >= 8 ? 8 : 1
        let last = count - lanes
        var start = 0
        while start < count {
            let c = (min(start, last), min(start + lanes, last), min(start + 2 * lanes, last))
            body(lanes == 8 ? .simd8 : .scalar, c)
            start += 3 * lanes
        }
    }
}

/// Which instantiation of the micro-kernels a column triple uses.
enum KernelWidth { case simd8, scalar }

/// What the store does to each element (see `ConvTranspose2DEpilogue`).
enum ActivationMode {
    case none, relu, negativeSlope
    init(_ e: ConvTranspose2DEpilogue) {
        switch e {
        case .none: self = .none
        case .relu: self = .relu
        case .leakyReLU, .prelu: self = .negativeSlope
        }
    }
}

/// The lane type of a micro-kernel: SIMD8<Float> for the body, Float for narrow tails.
protocol KernelVector {
    init(broadcast value: Float)
    init(loading p: UnsafePointer<Float>)
    func addingProduct(_ lhs: Self, _ rhs: Self) -> Self
    func activated(_ mode: ActivationMode, slope: Float) -> Self
    func store(to p: UnsafeMutablePointer<Float>, stride: Int)
}

extension Float: KernelVector {
    @inline(__always) init(broadcast value: Float) { self = value }
    @inline(__always) init(loading p: UnsafePointer<Float>) { self = p.pointee }
    @inline(__always) func activated(_ mode: ActivationMode, slope: Float) -> Float {
        switch mode {
        case .none: return self
        case .relu: return self < 0 ? 0 : self
        case .negativeSlope: return self < 0 ? self * slope : self
        }
    }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>, stride: Int) { p.pointee = self }
}

extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always) init(broadcast value: Float) { self.init(repeating: value) }
    @inline(__always) init(loading p: UnsafePointer<Float>) {
        self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inline(__always) func activated(_ mode: ActivationMode, slope: Float) -> SIMD8<Float> {
        switch mode {
        case .none: return self
        case .relu: return self.replacing(with: 0, where: self .< 0)
        case .negativeSlope: return self.replacing(with: self * slope, where: self .< 0)
        }
    }
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>, stride: Int) {
        if stride == 1 {
            UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
        } else {
            for i in 0..<8 { p[i * stride] = self[i] }
        }
    }
}

/// What every micro-kernel call of one (item, phase) shares.
struct TileSetup {
    var band: UnsafePointer<Float>     // (cInG, bandRows, bw)
    var channelStride: Int             // bandRows·bw
    var bandWidth: Int
    var cIn: Int                       // cInG
    var taps: UnsafePointer<Int>       // (tapCount): offsets into one band channel
    var tapCount: Int
    var outStride: Int                 // sW: output columns of a phase are sW apart
    var mode: ActivationMode

    init(band: UnsafePointer<Float>, channelStride: Int, bandWidth: Int, cIn: Int,
         taps: UnsafePointer<Int>, tapCount: Int, outStride: Int, mode: ActivationMode) {
        (self.band, self.channelStride, self.bandWidth, self.cIn) = (band, channelStride, bandWidth, cIn)
        (self.taps, self.tapCount, self.outStride, self.mode) = (taps, tapCount, outStride, mode)
    }

    @inline(__always)
    func channelTile(_ width: KernelWidth, x: UnsafePointer<Float>, cols: (Int, Int, Int),
                     w: UnsafePointer<Float>, bias: (Float, Float, Float, Float),
                     slopes: (Float, Float, Float, Float),
                     out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                           UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        switch width {
        case .simd8: channelTile(SIMD8<Float>.self, x: x, cols: cols, w: w, bias: bias, slopes: slopes, out: out)
        case .scalar: channelTile(Float.self, x: x, cols: cols, w: w, bias: bias, slopes: slopes, out: out)
        }
    }

    /// 4 output channels (weight lanes) × 3 column vectors of one output row.
    /// x: band at the row of this output row, column 0; w: (ci, tap, 4).
    @inline(__always)
    func channelTile<V: KernelVector>(_: V.Type, x: UnsafePointer<Float>, cols: (Int, Int, Int),
                                      w: UnsafePointer<Float>, bias: (Float, Float, Float, Float),
                                      slopes: (Float, Float, Float, Float),
                                      out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                            UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        var a00 = V(broadcast: bias.0), a01 = a00, a02 = a00
        var a10 = V(broadcast: bias.1), a11 = a10, a12 = a10
        var a20 = V(broadcast: bias.2), a21 = a20, a22 = a20
        var a30 = V(broadcast: bias.3), a31 = a30, a32 = a30
        let (c0, c1, c2) = cols
        var xc = x
        var wp = w
        for _ in 0..<cIn {
            for t in 0..<tapCount {
                let xp = xc + taps[t]
                let x0 = V(loading: xp + c0), x1 = V(loading: xp + c1), x2 = V(loading: xp + c2)
                let w0 = V(broadcast: wp[0])
                a00 = a00.addingProduct(x0, w0); a01 = a01.addingProduct(x1, w0); a02 = a02.addingProduct(x2, w0)
                let w1 = V(broadcast: wp[1])
                a10 = a10.addingProduct(x0, w1); a11 = a11.addingProduct(x1, w1); a12 = a12.addingProduct(x2, w1)
                let w2 = V(broadcast: wp[2])
                a20 = a20.addingProduct(x0, w2); a21 = a21.addingProduct(x1, w2); a22 = a22.addingProduct(x2, w2)
                let w3 = V(broadcast: wp[3])
                a30 = a30.addingProduct(x0, w3); a31 = a31.addingProduct(x1, w3); a32 = a32.addingProduct(x2, w3)
                wp += 4
            }
            xc += channelStride
        }
        let s = outStride
        a00.activated(mode, slope: slopes.0).store(to: out.0 + c0 * s, stride: s)
        a01.activated(mode, slope: slopes.0).store(to: out.0 + c1 * s, stride: s)
        a02.activated(mode, slope: slopes.0).store(to: out.0 + c2 * s, stride: s)
        a10.activated(mode, slope: slopes.1).store(to: out.1 + c0 * s, stride: s)
        a11.activated(mode, slope: slopes.1).store(to: out.1 + c1 * s, stride: s)
        a12.activated(mode, slope: slopes.1).store(to: out.1 + c2 * s, stride: s)
        a20.activated(mode, slope: slopes.2).store(to: out.2 + c0 * s, stride: s)
        a21.activated(mode, slope: slopes.2).store(to: out.2 + c1 * s, stride: s)
        a22.activated(mode, slope: slopes.2).store(to: out.2 + c2 * s, stride: s)
        a30.activated(mode, slope: slopes.3).store(to: out.3 + c0 * s, stride: s)
        a31.activated(mode, slope: slopes.3).store(to: out.3 + c1 * s, stride: s)
        a32.activated(mode, slope: slopes.3).store(to: out.3 + c2 * s, stride: s)
    }

    @inline(__always)
    func rowTile(_ width: KernelWidth, rows: (Int, Int, Int, Int), cols: (Int, Int, Int),
                 w: UnsafePointer<Float>, bias: Float, slope: Float,
                 out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                       UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        switch width {
        case .simd8: rowTile(SIMD8<Float>.self, rows: rows, cols: cols, w: w, bias: bias, slope: slope, out: out)
        case .scalar: rowTile(Float.self, rows: rows, cols: cols, w: w, bias: bias, slope: slope, out: out)
        }
    }

    /// 4 output rows × 3 column vectors of one output channel.
    /// rows: band offsets of the 4 rows (from the item's first row); w: (ci, tap).
    @inline(__always)
    func rowTile<V: KernelVector>(_: V.Type, rows: (Int, Int, Int, Int), cols: (Int, Int, Int),
                                  w: UnsafePointer<Float>, bias: Float, slope: Float,
                                  out: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                        UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        var a00 = V(broadcast: bias), a01 = a00, a02 = a00
        var a10 = a00, a11 = a00, a12 = a00
        var a20 = a00, a21 = a00, a22 = a00
        var a30 = a00, a31 = a00, a32 = a00
        let (c0, c1, c2) = cols
        let (r1, r2, r3) = (rows.1 - rows.0, rows.2 - rows.0, rows.3 - rows.0)
        var xc = band + rows.0
        var wp = w
        for _ in 0..<cIn {
            for t in 0..<tapCount {
                let wv = V(broadcast: wp[t])
                let xp = xc + taps[t]
                a00 = a00.addingProduct(V(loading: xp + c0), wv)
                a01 = a01.addingProduct(V(loading: xp + c1), wv)
                a02 = a02.addingProduct(V(loading: xp + c2), wv)
                a10 = a10.addingProduct(V(loading: xp + r1 + c0), wv)
                a11 = a11.addingProduct(V(loading: xp + r1 + c1), wv)
                a12 = a12.addingProduct(V(loading: xp + r1 + c2), wv)
                a20 = a20.addingProduct(V(loading: xp + r2 + c0), wv)
                a21 = a21.addingProduct(V(loading: xp + r2 + c1), wv)
                a22 = a22.addingProduct(V(loading: xp + r2 + c2), wv)
                a30 = a30.addingProduct(V(loading: xp + r3 + c0), wv)
                a31 = a31.addingProduct(V(loading: xp + r3 + c1), wv)
                a32 = a32.addingProduct(V(loading: xp + r3 + c2), wv)
            }
            wp += tapCount
            xc += channelStride
        }
        let s = outStride
        a00.activated(mode, slope: slope).store(to: out.0 + c0 * s, stride: s)
        a01.activated(mode, slope: slope).store(to: out.0 + c1 * s, stride: s)
        a02.activated(mode, slope: slope).store(to: out.0 + c2 * s, stride: s)
        a10.activated(mode, slope: slope).store(to: out.1 + c0 * s, stride: s)
        a11.activated(mode, slope: slope).store(to: out.1 + c1 * s, stride: s)
        a12.activated(mode, slope: slope).store(to: out.1 + c2 * s, stride: s)
        a20.activated(mode, slope: slope).store(to: out.2 + c0 * s, stride: s)
        a21.activated(mode, slope: slope).store(to: out.2 + c1 * s, stride: s)
        a22.activated(mode, slope: slope).store(to: out.2 + c2 * s, stride: s)
        a30.activated(mode, slope: slope).store(to: out.3 + c0 * s, stride: s)
        a31.activated(mode, slope: slope).store(to: out.3 + c1 * s, stride: s)
        a32.activated(mode, slope: slope).store(to: out.3 + c2 * s, stride: s)
    }
}
