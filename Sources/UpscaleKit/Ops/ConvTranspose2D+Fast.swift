// The fast conv_transpose2d: sub-pixel phases, register tiles of SIMD8 accumulators, fused epilogue.
//
// A work item is 8 phase rows q of one image and group. It walks the columns in chunks: for each
// chunk it copies the input window that all phases of those rows and columns read (every input
// channel of the group) into a zero-padded band small enough for the L2 cache. Then, for each
// block of 4 phase rows, column phase pw, block of output channels and group of output rows
// ("slots", see ConvTransposeSlotTable), one kernel call runs the chunk's tiles side by side: each
// tile accumulates CB channels × R rows × 3 SIMD8 vectors (24 phase columns) in registers over all
// input channels and taps, applies the activation and stores the valid pixels.
// A layer on the sub-pixel kernel (ConvTranspose2D+Subpixel.swift) walks the same items, chunks and
// bands, with one call per block of phase rows for all column phases at once (`runSubpixel`).
//
// Every tile reads from such a band, interior or border, whole or partial: taps outside the
// image read zeros, and every element is computed by the same instructions in the same order (see
// ConvTranspose2D+Plan.swift, "Determinism"). There is no scalar tail: a partial tile runs the
// same SIMD code and stores only its valid lanes. The band also makes the kernel's reads dense:
// reading NCHW planes in place measured slower, much slower for power-of-two planes (cache aliasing).

enum ConvTranspose2DFast {
    /// Phase rows q per work item (a multiple of `ConvTransposeKernelShape.blockRows`).
    static let itemRows = 8
    /// Size budget of a worker's input band. Measured on Zen 3 (512 KiB L2): a band much larger
    /// slows the kernel (conv64 at 384 KiB: 66% → 57% of peak), a much smaller one slows the copy
    /// (short pieces of many rows; fsrcnn_deconv at 64 KiB: 10% slower).
    static let bandBytes = 192 * 1024
    /// Largest band of whole rows that is used instead of chunks: 512 KiB (L2), or 1 MiB when the
    /// kernel reads the band at most twice (blocks of output channels × column phases; a band that
    /// is read many times must stay in L2). Whole rows make the copy one contiguous run per
    /// channel, which the hardware prefetchers follow; chunks read short pieces of many rows.
    /// Measured on FSRCNN's 56-channel inputs: 1×1 56→12 25–33% faster, 9×9 stride-2 56→1 7–9%
    /// faster, but 9×9 stride 3 and 4 (3–4 reads) 4% slower at 600 KiB; upconv_7's 3×3 layers
    /// with 64–128 input channels 10–13% slower at 768 KiB.
    static let wholeRowBytes = (manyReads: 512 * 1024, fewReads: 1024 * 1024)

    /// input (N, Cin, H, W), output (N, Cout, Hout, Wout) for the geometry `g` of `plan`.
    /// Writes every output element exactly once.
    static func run(_ plan: ConvTranspose2DPlan, _ g: ConvTranspose2DGeometry,
                    input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                    outputOrigin: (Int, Int) = (0, 0), threads: Int) {
        precondition(input.count == g.batch * g.inChannels * g.inHeight * g.inWidth, "input size")
        precondition(output.count == g.batch * g.outChannels * g.outHeight * g.outWidth, "output size")
        guard g.batch > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
        run(plan, g, input: x, output: y, outputOrigin: outputOrigin, threads: threads)
    }

    /// `run` on raw storage: `input` holds (N, Cin, H, W) floats (none are read when H or W is 0,
    /// the pointer must still be valid), `output` room for (N, Cout, Hout, Wout). `outputOrigin` is
    /// where the output lies in the layer's whole output map (a window's, see `runWindow`): only
    /// the Winograd kernel, whose tile grid is anchored there, depends on it.
    /// `inputLayout`, `outputLayout`: where the input's elements lie and the output's go
    /// (ConvTranspose2D+Layout.swift); nil: dense (N, Cin, H, W) and (N, Cout, Hout, Wout).
    static func run(_ plan: ConvTranspose2DPlan, _ g: ConvTranspose2DGeometry,
                    input x: UnsafePointer<Float>, inputLayout: ConvTransposeMapLayout? = nil,
                    output y: UnsafeMutablePointer<Float>, outputLayout: ConvTransposeMapLayout? = nil,
                    outputOrigin: (Int, Int) = (0, 0), threads: Int) {
        guard g.batch > 0, g.outHeight > 0, g.outWidth > 0 else { return }
        let layouts = ConvTransposeLayouts(
            input: inputLayout ?? .dense(channels: g.inChannels, height: g.inHeight, width: g.inWidth),
            output: outputLayout ?? .dense(channels: g.outChannels, height: g.outHeight, width: g.outWidth))
        if let winograd = plan.winograd {
            return ConvTranspose2DWinograd.run(plan, winograd, g, outputOrigin: outputOrigin, input: x, output: y,
                                               layouts: layouts, threads: threads)
        }
        if let direct = plan.direct {
            return ConvTranspose2DDirect.run(plan, direct, g, input: x, output: y, layouts: layouts, threads: threads)
        }
        if let wide = plan.wide {
            return ConvTranspose2DWide.run(plan, wide, g, input: x, output: y, layouts: layouts, threads: threads)
        }
        plan.packed.withUnsafeBufferPointer { packed in
        plan.biasValues.withUnsafeBufferPointer { bias in
        plan.slopes.withUnsafeBufferPointer { slopes in
            let context = ConvTransposeRunContext(plan, g, packed: packed.baseAddress!, bias: bias.baseAddress!,
                                                  slopes: slopes.baseAddress!, layouts: layouts)
            defer { context.deallocate() }
            // Each item owns batch n, group grp and phase rows q ∈ [qStart, qEnd): the output rows
            // q·sH + ph − pH of every row phase ph, all columns, channels grp·cOutG ..< (grp+1)·cOutG.
            // Distinct (ph, q) give distinct rows, so no two items write the same element.
            parallelFor(g.batch * g.groups * context.itemsPerImage, threads: threads) { item in
                context.runItem(item, input: x, output: y)
            }
        }
        }
        }
    }
}

/// Where one phase's outputs lie and what its taps read, as plain integers.
struct ConvTransposePhaseRun {
    var phase: Int
    var taps: Int
    var qLo: Int, qHi: Int             // q (or r) of the outputs of this phase in the image
}

/// Everything a work item reads, flattened into raw memory: no arrays (and no reference
/// counting) in the loops. Built once per `run`, shared read-only by all workers.
/// Unchecked: the pointers outlive the call; workers only read through them, except the output,
/// where each work item writes its own elements (disjoint, see `run`).
struct ConvTransposeRunContext: @unchecked Sendable {
    let g: ConvTranspose2DGeometry
    let itemsPerImage: Int
    let qMin: Int, qMax: Int, rMin: Int, rMax: Int
    let minOffsetH: Int, minOffsetW: Int         // over all phases: the band starts there
    let bandRows: Int                             // itemRows + spanH
    let tilePixels: Int                           // phase columns per tile: 24, or the sub-pixel tile's
    let subpixel: ConvTransposeSubpixelShape?     // the sub-pixel kernel's tile, or nil for +Fast's
    let chunkPixels: Int                          // phase columns per band, a multiple of tilePixels
    let bandColumns: Int                          // chunkPixels + spanW
    let maxInputRows: Int
    let phasesH: UnsafeMutablePointer<ConvTransposePhaseRun>   // (sH)
    let phasesW: UnsafeMutablePointer<ConvTransposePhaseRun>   // (sW)
    let blockCount: Int
    let blockStart: UnsafeMutablePointer<Int>                  // (blocks)
    let blockShape: UnsafeMutablePointer<ConvTransposeKernelShape>
    // Slot tables, flattened: table t = tableStart[rowChoice] + group.
    let tableStart: UnsafeMutablePointer<Int>                  // (rowChoices + 1)
    let phaseRows: UnsafeMutablePointer<Int>                   // (tables)
    let inputRowCount: UnsafeMutablePointer<Int>               // (tables)
    let inputRows: UnsafeMutablePointer<UnsafeMutablePointer<Int>>      // (tables) -> (count)
    let tapOfRow: UnsafeMutablePointer<UnsafeMutablePointer<Int32>>     // (tables) -> (count, R)
    let slotPhase: UnsafeMutablePointer<UnsafeMutablePointer<Int>>      // (tables) -> (R)
    let slotRow: UnsafeMutablePointer<UnsafeMutablePointer<Int>>        // (tables) -> (R)
    let tableCount: Int
    let columnOffsets: UnsafeMutablePointer<UnsafeMutablePointer<Int>>  // (sW) -> (taps)
    let packedOffsets: UnsafeMutablePointer<Int>               // (g, block, ph, pw)
    let packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, slopes: UnsafePointer<Float>
    let activation: ConvTransposeActivationMode
    let layouts: ConvTransposeLayouts             // where the input lies and the output goes

    init(_ plan: ConvTranspose2DPlan, _ g: ConvTranspose2DGeometry,
         packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, slopes: UnsafePointer<Float>,
         layouts: ConvTransposeLayouts) {
        self.g = g
        self.layouts = layouts
        subpixel = plan.subpixel
        let tilePixels = plan.subpixel?.pixels ?? ConvTransposeKernelShape.pixels
        self.tilePixels = tilePixels
        let rangesH = plan.phasesH.map { $0.outputRange(stride: g.strideH, padding: g.padH, outSize: g.outHeight) }
        let rangesW = plan.phasesW.map { $0.outputRange(stride: g.strideW, padding: g.padW, outSize: g.outWidth) }
        qMin = rangesH.map(\.lowerBound).min() ?? 0
        qMax = rangesH.map(\.upperBound).max() ?? 0
        rMin = rangesW.map(\.lowerBound).min() ?? 0
        rMax = rangesW.map(\.upperBound).max() ?? 0
        itemsPerImage = (qMax - qMin + ConvTranspose2DFast.itemRows - 1) / ConvTranspose2DFast.itemRows
        let withTapsH = plan.phasesH.filter { !$0.taps.isEmpty }, withTapsW = plan.phasesW.filter { !$0.taps.isEmpty }
        minOffsetH = withTapsH.map(\.minOffset).min() ?? 0
        minOffsetW = withTapsW.map(\.minOffset).min() ?? 0
        bandRows = (withTapsH.map(\.maxOffset).max() ?? 0) - minOffsetH + ConvTranspose2DFast.itemRows
        let spanW = (withTapsW.map(\.maxOffset).max() ?? 0) - minOffsetW
        // Whole rows when they fit `wholeRowBytes`, else chunks as wide as keep the band within
        // `bandBytes`: at least one block, at most the row.
        let pixelBlocks = (rMax - rMin + tilePixels - 1) / tilePixels
        let fit = ConvTranspose2DFast.bandBytes / (MemoryLayout<Float>.size * g.inChannelsPerGroup * bandRows) - spanW
        let rowBytes = MemoryLayout<Float>.size * g.inChannelsPerGroup * bandRows * (max(1, pixelBlocks) * tilePixels + spanW)
        let wholeRows = rowBytes <= (plan.blocks.count * g.strideW <= 2 ? ConvTranspose2DFast.wholeRowBytes.fewReads
                                                                          : ConvTranspose2DFast.wholeRowBytes.manyReads)
        chunkPixels = (wholeRows ? max(1, pixelBlocks) : min(max(1, fit / tilePixels), max(1, pixelBlocks))) * tilePixels
        bandColumns = chunkPixels + spanW
        maxInputRows = plan.slotTables.flatMap { $0.map(\.inputRows.count) }.max() ?? 0

        func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, values.count))
            p.initialize(from: values, count: values.count)
            return p
        }
        phasesH = copy(zip(plan.phasesH, rangesH).map { ConvTransposePhaseRun(phase: $0.phase, taps: $0.taps.count, qLo: $1.lowerBound, qHi: $1.upperBound) })
        phasesW = copy(zip(plan.phasesW, rangesW).map { ConvTransposePhaseRun(phase: $0.phase, taps: $0.taps.count, qLo: $1.lowerBound, qHi: $1.upperBound) })
        blockCount = plan.blocks.count
        blockStart = copy(plan.blocks.map(\.start))
        blockShape = copy(plan.blocks.map(\.shape))
        let tables = plan.slotTables.flatMap { $0 }
        tableCount = tables.count
        tableStart = copy(plan.slotTables.reduce(into: [0]) { $0.append($0.last! + $1.count) })
        phaseRows = copy(tables.map(\.phaseRows))
        inputRowCount = copy(tables.map(\.inputRows.count))
        inputRows = copy(tables.map { copy($0.inputRows) })
        tapOfRow = copy(tables.map { copy($0.tapOfRow) })
        slotPhase = copy(tables.map { copy($0.slots.map(\.phase)) })
        slotRow = copy(tables.map { copy($0.slots.map(\.row)) })
        columnOffsets = copy(plan.phasesW.map { copy($0.offsets) })
        packedOffsets = copy(plan.packedOffsets)
        self.packed = packed
        self.bias = bias
        self.slopes = slopes
        activation = plan.activation
    }

    func deallocate() {
        for t in 0..<tableCount {
            inputRows[t].deallocate(); tapOfRow[t].deallocate(); slotPhase[t].deallocate(); slotRow[t].deallocate()
        }
        for i in 0..<g.strideW { columnOffsets[i].deallocate() }
        for p in [tableStart, phaseRows, inputRowCount, blockStart, packedOffsets] { p.deallocate() }
        inputRows.deallocate(); tapOfRow.deallocate(); slotPhase.deallocate(); slotRow.deallocate()
        columnOffsets.deallocate()
        phasesH.deallocate(); phasesW.deallocate(); blockShape.deallocate()
    }

    /// Computes work item `item` (see `ConvTranspose2DFast.run` for what it owns).
    func runItem(_ item: Int, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        let blockRows = ConvTransposeKernelShape.blockRows
        let (cInG, cOutG) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let (H, W) = (g.inHeight, g.inWidth)
        let (sH, sW, pH, pW) = (g.strideH, g.strideW, g.padH, g.padW)
        let n = item / (g.groups * itemsPerImage)
        let grp = (item / itemsPerImage) % g.groups
        let qStart = qMin + (item % itemsPerImage) * ConvTranspose2DFast.itemRows
        let qEnd = min(qStart + ConvTranspose2DFast.itemRows, qMax)
        // band (cInG, bandRows, bandColumns): input rows qStart + minOffsetH …, columns chunk + minOffsetW …
        let band = UnsafeMutablePointer<Float>.allocate(capacity: cInG * bandRows * bandColumns)
        let rowOffsets = UnsafeMutablePointer<Int>.allocate(capacity: max(1, maxInputRows))
        let slotWeights = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 4 * sW)   // (R, sW): +Subpixel's
        let slotOut = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { band.deallocate(); rowOffsets.deallocate(); slotWeights.deallocate(); slotOut.deallocate() }

        for chunk in stride(from: rMin, to: rMax, by: chunkPixels) {
            ConvTranspose2DFast.fillPatch(band, from: x, layouts.input, n: n, firstChannel: grp * cInG, channels: cInG,
                                          height: H, width: W,
                                          firstRow: qStart + minOffsetH, rows: bandRows,
                                          firstColumn: chunk + minOffsetW, columns: bandColumns,
                                          prefetchColumns: chunk + chunkPixels < rMax ? chunkPixels : 0)
            for qs in stride(from: qStart, to: qEnd, by: blockRows) {
                if let subpixel {
                    runSubpixel(subpixel, n: n, grp: grp, chunk: chunk, qStart: qStart, qs: qs, qEnd: qEnd,
                                band: band, rowOffsets: rowOffsets, slotWeights: slotWeights, slotOut: slotOut, output: y)
                    continue
                }
                for pwIndex in 0..<sW {
                    // The tiles of this chunk that hold outputs of column phase pw: first r0, count,
                    // and the valid lanes of the first and the last.
                    let pw = phasesW[pwIndex]
                    let lo = max(pw.qLo, chunk), hi = min(pw.qHi, chunk + chunkPixels)
                    if lo >= hi { continue }
                    let first = (lo - chunk) / tilePixels, last = (hi - 1 - chunk) / tilePixels
                    let r0 = chunk + first * tilePixels
                    let tiles = last - first + 1, laneLo = lo - r0, laneHiLast = hi - (chunk + last * tilePixels)
                    let src = UnsafePointer(band) + (r0 - chunk - minOffsetW)   // band column of r0
                    let ow0 = r0 * sW + pw.phase - pW
                    for blockIndex in 0..<blockCount {
                        let shape = blockShape[blockIndex]
                        let R = shape.rows
                        let co = grp * cOutG + blockStart[blockIndex]
                        let packedBlock = (grp * blockCount + blockIndex) * sH
                        let choice = shape.rowChoiceIndex
                        for t in tableStart[choice]..<tableStart[choice + 1] {
                            for dq in stride(from: 0, to: blockRows, by: phaseRows[t]) {
                                // Slot s is output row phase slotPhase, phase row qs + dq + slotRow.
                                var valid = 0
                                for slot in 0..<R {
                                    let phIndex = slotPhase[t][slot], ph = phasesH[phIndex]
                                    let q = qs + dq + slotRow[t][slot]
                                    if q >= ph.qLo && q < ph.qHi && q < qEnd { valid |= 1 << slot }
                                    slotWeights[slot] = packed + packedOffsets[(packedBlock + phIndex) * sW + pwIndex]
                                    slotOut[slot] = layouts.output.offset(n, co, q * sH + ph.phase - pH) + ow0
                                }
                                if valid == 0 { continue }
                                let rows = pw.taps > 0 ? inputRowCount[t] : 0
                                for j in 0..<rows {
                                    rowOffsets[j] = (qs - qStart + dq + inputRows[t][j] - minOffsetH) * bandColumns
                                }
                                let args = ConvTransposeKernelArgs(
                                    src: src, channelStride: bandRows * bandColumns,
                                    channels: cInG, rowOffsets: rowOffsets, inputRows: rows,
                                    tapOfRow: tapOfRow[t], columnOffsets: columnOffsets[pwIndex], tapsW: pw.taps,
                                    slotWeights: slotWeights, bias: bias + co, slopes: slopes + co,
                                    activation: activation, out: y, slotOut: slotOut, validSlots: valid,
                                    outChannelStride: layouts.output.channelStride, outColumnStride: sW,
                                    tiles: tiles, laneLo: laneLo, laneHiLast: laneHiLast)
                                switch shape {
                                case .channels4: ConvTransposeMicroKernel<4, 1, 3>.run(args)
                                case .channels3: ConvTransposeMicroKernel<3, 1, 3>.run(args)
                                case .channels2: ConvTransposeMicroKernel<2, 2, 3>.run(args)
                                case .channels1: ConvTransposeMicroKernel<1, 4, 3>.run(args)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ConvTranspose2DFast {
    /// Copies `rows` input rows from `firstRow` × `columns` columns from `firstColumn` of channels
    /// firstChannel ..< + channels of image n of the (height, width) map `x` (where `layout` says)
    /// into `patch` (channels, rows, columns), with zeros where the window leaves the image. Only
    /// the first `filledRows` rows of each channel are written (all unless told).
    ///
    /// `prefetchColumns` more columns after the window are prefetched into L2 for the next chunk:
    /// the band holds short pieces of many rows, too short for the hardware prefetchers, and
    /// copying them measured bound by memory latency.
    static func fillPatch(_ patch: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>,
                          _ layout: ConvTransposeMapLayout, n: Int, firstChannel: Int, channels: Int, height: Int, width: Int,
                          firstRow: Int, rows: Int, filledRows: Int? = nil, firstColumn: Int, columns: Int,
                          prefetchColumns: Int = 0) {
        let c0 = max(0, firstColumn), c1 = min(width, firstColumn + columns)   // [c0, c1) inside
        for ci in 0..<channels {
            for i in 0..<min(rows, filledRows ?? rows) {
                let h = firstRow + i
                let dst = patch + (ci * rows + i) * columns
                guard h >= 0, h < height, c0 < c1 else {
                    dst.update(repeating: 0, count: columns)
                    continue
                }
                let left = c0 - firstColumn, inside = c1 - c0
                if left > 0 { dst.update(repeating: 0, count: left) }
                let src = x + layout.offset(n, firstChannel + ci, h) + c0
                copy(src, to: dst + left, count: inside)
                let ahead = min(prefetchColumns, width - c1)
                if ahead > 0 {
                    // Every cache line the next piece touches: from the line of its first byte to
                    // the line of its last (a piece that does not start on a line has one more).
                    let next = UnsafeRawPointer(src + inside)
                    let skew = Int(bitPattern: next) & 63
                    for byte in stride(from: -skew, to: ahead * MemoryLayout<Float>.size, by: 64) {
                        llvmPrefetch(next + byte, 0, 2, 1)
                    }
                }
                if columns > left + inside { (dst + left + inside).update(repeating: 0, count: columns - left - inside) }
            }
        }
    }

    /// `dst[0..<count] = src[0..<count]` with SIMD8 moves: most rows of a band are a few dozen
    /// floats, where a call to memmove costs more than the copy.
    @inline(__always)
    static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 8 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(
                of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            dst[i] = src[i]
            i &+= 1
        }
    }
}

/// Everything one kernel call needs: where to read, which taps, where to write.
struct ConvTransposeKernelArgs {
    var src: UnsafePointer<Float>          // input channel 0, column of lane 0; rows via rowOffsets
    var channelStride: Int
    var channels: Int                      // cInG
    var rowOffsets: UnsafePointer<Int>     // (inputRows): element offset of each input row from src
    var inputRows: Int
    var tapOfRow: UnsafePointer<Int32>     // (inputRows, R): each slot's row tap a, or −1
    var columnOffsets: UnsafePointer<Int>  // (tapsW): column offset of each column tap
    var tapsW: Int
    var slotWeights: UnsafePointer<UnsafePointer<Float>>  // (R): packed (tapsH, channels, tapsW, CB) of each slot's phase
    var bias: UnsafePointer<Float>         // (CB)
    var slopes: UnsafePointer<Float>       // (CB)
    var activation: ConvTransposeActivationMode
    var out: UnsafeMutablePointer<Float>
    var slotOut: UnsafePointer<Int>        // (R): element (channel 0, lane 0) of each slot's row
    var validSlots: Int                    // bit s: slot s is an output row to store
    var outChannelStride: Int
    var outColumnStride: Int
    var tiles: Int                         // tiles side by side, each V·8 pixels right of the last
    var laneLo: Int                        // pixels of the first tile's rows to store from
    var laneHiLast: Int                    // pixels of the last tile's rows to store up to
}

/// The register tile: CB output channels × R output rows × V SIMD8 vectors of consecutive phase
/// columns, accumulated in registers over all input channels and taps (CB·R·V ≤ 12 of the 16 ymm).
///
/// Loop order: input row j, input channel ci, column tap b, then for every output row r that uses
/// row j (through its row tap a) and every channel c: acc[c][r] += x[ci, j, b + lanes] · w[ci, a, b, c].
/// Input vectors are loaded once per (j, ci, b) and shared by all rows and channels of the tile.
/// For one output element this is the canonical order (row tap a, ci, column tap b) whatever R is,
/// since input rows ascend with a for every row r.
enum ConvTransposeMicroKernel<let CB: Int, let R: Int, let V: Int> {
    typealias Vector = SIMD8<Float>

    @inline(never)
    static func run(_ k: ConvTransposeKernelArgs) {
        // Index arithmetic wraps (&+, &*): the driver keeps every index inside its buffer, and
        // overflow checks in the innermost loops cost more than the loads.
        for tile in 0..<k.tiles {
            let shift = tile &* (V &* 8)   // pixels from the first tile
            tileRun(k, shift: shift, laneLo: tile == 0 ? k.laneLo : 0,
                    laneHi: tile == k.tiles &- 1 ? k.laneHiLast : V &* 8)
        }
    }

    /// One tile: `shift` pixels right of the call's first tile, storing lanes laneLo..<laneHi.
    @inline(__always)
    static func tileRun(_ k: ConvTransposeKernelArgs, shift: Int, laneLo: Int, laneHi: Int) {
        var acc = InlineArray<CB, InlineArray<R, InlineArray<V, Vector>>>(
            repeating: .init(repeating: .init(repeating: Vector())))
        for c in 0..<CB {
            let b = Vector(repeating: k.bias[c])
            for r in 0..<R { for v in 0..<V { acc[c][r][v] = b } }
        }
        let src = k.src + shift
        for j in 0..<k.inputRows {
            let taps = k.tapOfRow + j &* R
            if R == 1 {   // one row: every input row is a tap, a = j
                accumulate(&acc, mask: 1, taps: taps, j: j, src: src, k)
                continue
            }
            // Which rows of the tile read input row j, as a constant in each case, so that the
            // tile stays in registers and the channel and column loops have no branches.
            var mask = 0
            for r in 0..<R where taps[r] >= 0 { mask |= 1 << r }
            switch mask {
            case 1: accumulate(&acc, mask: 1, taps: taps, j: j, src: src, k)
            case 2: accumulate(&acc, mask: 2, taps: taps, j: j, src: src, k)
            case 3: accumulate(&acc, mask: 3, taps: taps, j: j, src: src, k)
            case 4: accumulate(&acc, mask: 4, taps: taps, j: j, src: src, k)
            case 5: accumulate(&acc, mask: 5, taps: taps, j: j, src: src, k)
            case 6: accumulate(&acc, mask: 6, taps: taps, j: j, src: src, k)
            case 7: accumulate(&acc, mask: 7, taps: taps, j: j, src: src, k)
            case 8: accumulate(&acc, mask: 8, taps: taps, j: j, src: src, k)
            case 9: accumulate(&acc, mask: 9, taps: taps, j: j, src: src, k)
            case 10: accumulate(&acc, mask: 10, taps: taps, j: j, src: src, k)
            case 11: accumulate(&acc, mask: 11, taps: taps, j: j, src: src, k)
            case 12: accumulate(&acc, mask: 12, taps: taps, j: j, src: src, k)
            case 13: accumulate(&acc, mask: 13, taps: taps, j: j, src: src, k)
            case 14: accumulate(&acc, mask: 14, taps: taps, j: j, src: src, k)
            case 15: accumulate(&acc, mask: 15, taps: taps, j: j, src: src, k)
            default: preconditionFailure("row mask \(mask) for a tile of \(R) rows")
            }
        }
        store(acc, k, outShift: shift &* k.outColumnStride, laneLo: laneLo, laneHi: laneHi)
    }

    /// For input row j: acc[c][r] += x[ci, j, b + lanes] · w[ci, a(j, r), b, c] for every input
    /// channel ci, column tap b, row r in `mask` (a constant once inlined) and channel c.
    @inline(__always)
    static func accumulate(_ acc: inout InlineArray<CB, InlineArray<R, InlineArray<V, Vector>>>, mask: Int,
                           taps: UnsafePointer<Int32>, j: Int, src: UnsafePointer<Float>,
                           _ k: ConvTransposeKernelArgs) {
        // weights (tapsH, channels, tapsW, CB): row r's tap a starts at a·channels·tapsW·CB.
        let weightsPerChannel = k.tapsW &* CB
        var slotWeights = InlineArray<R, UnsafePointer<Float>>(repeating: k.slotWeights[0])
        for r in 0..<R where mask & (1 << r) != 0 {
            slotWeights[r] = k.slotWeights[r] + (R == 1 ? j : Int(taps[r])) &* k.channels &* weightsPerChannel
        }
        // Column taps are evenly spaced (see +Phases): tap b reads column offsets[0] + b·step.
        var xr = src + k.rowOffsets[j] + k.columnOffsets[0]
        let step = k.tapsW > 1 ? k.columnOffsets[1] &- k.columnOffsets[0] : 0
        let tapsW = k.tapsW
        var wc = 0
        for _ in 0..<k.channels {
            for b in 0..<tapsW {
                let xp = UnsafeRawPointer(xr + b &* step)
                var xv = InlineArray<V, Vector>(repeating: Vector())
                for v in 0..<V { xv[v] = xp.loadUnaligned(fromByteOffset: v &* 32, as: Vector.self) }
                for r in 0..<R where mask & (1 << r) != 0 {
                    let wp = slotWeights[r] + (wc &+ b &* CB)
                    for c in 0..<CB {
                        let w = Vector(repeating: wp[c])
                        for v in 0..<V { acc[c][r][v].addProduct(xv[v], w) }
                    }
                }
            }
            xr += k.channelStride
            wc &+= weightsPerChannel
        }
    }

    /// Epilogue: activation, then the valid rows and lanes to the output. A whole tile of
    /// contiguous pixels is stored straight from the registers; a partial or strided one goes
    /// through a stack buffer (indexing `acc` with run-time rows or lanes would move it to memory).
    @inline(__always)
    static func store(_ acc: InlineArray<CB, InlineArray<R, InlineArray<V, Vector>>>, _ k: ConvTransposeKernelArgs,
                      outShift: Int, laneLo: Int, laneHi: Int) {
        if k.validSlots == (1 << R) - 1 && k.outColumnStride == 1 && laneLo == 0 && laneHi == V * 8 {
            for c in 0..<CB {
                let slope = Vector(repeating: k.slopes[c])
                for r in 0..<R {
                    let row = k.out + (k.slotOut[r] &+ outShift &+ c &* k.outChannelStride)
                    for v in 0..<V {
                        UnsafeMutableRawPointer(row + v &* 8).storeBytes(
                            of: k.activation.apply(acc[c][r][v], slope: slope), as: Vector.self)
                    }
                }
            }
            return
        }
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: CB * R * V) { tile in
            for c in 0..<CB { for r in 0..<R { for v in 0..<V { tile[(c * R + r) * V + v] = acc[c][r][v] } } }
            let contiguous = k.outColumnStride == 1 && laneLo == 0 && laneHi == V * 8
            for c in 0..<CB {
                let slope = Vector(repeating: k.slopes[c])
                for r in 0..<R where k.validSlots & (1 << r) != 0 {
                    let rowStart = k.slotOut[r] + outShift + c * k.outChannelStride
                    for v in 0..<V {
                        let value = k.activation.apply(tile[(c * R + r) * V + v], slope: slope)
                        if contiguous {
                            UnsafeMutableRawPointer(k.out + rowStart + v * 8).storeBytes(of: value, as: Vector.self)
                        } else {
                            let lo = max(laneLo - v * 8, 0), hi = min(laneHi - v * 8, 8)
                            if lo < hi {
                                for lane in lo..<hi { k.out[rowStart + (v * 8 + lane) * k.outColumnStride] = value[lane] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// LLVM's prefetch intrinsic (address, 0 = read, locality 0–3, 1 = data cache): Swift has no
/// spelling for a software prefetch, and a function named `llvm.*` is the intrinsic itself.
@_silgen_name("llvm.prefetch.p0")
func llvmPrefetch(_ address: UnsafeRawPointer, _ readWrite: Int32, _ locality: Int32, _ cacheType: Int32)
