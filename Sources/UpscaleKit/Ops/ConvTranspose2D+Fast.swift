// The fast conv_transpose2d: sub-pixel phases, register tiles of SIMD8 accumulators, fused epilogue.
//
// Work is split into blocks of 4 phase rows q × 24 phase columns r (`ConvTransposeKernelShape`).
// For each block, phase (ph, pw) and block of output channels, one kernel call accumulates a
// register tile of CB channels × R rows × 3 SIMD8 vectors over all input channels of the group and
// all taps of the phase, then applies bias-initialised sums' activation and stores the valid pixels.
//
// The kernel reads its input either straight from the tensor (when the whole window of the block
// lies inside the image) or from a small zero-padded patch of it (at the borders, and for partial
// blocks): both hold the same values, so border, interior and partial blocks compute every
// element in the same order (see ConvTranspose2D+Plan.swift, "Determinism"). There is no scalar
// tail: a partial block runs the same SIMD code and stores only its valid lanes.

enum ConvTranspose2DFast {
    /// Phase rows q per work item (a multiple of `ConvTransposeKernelShape.blockRows`).
    static let itemRows = 8

    /// input (N, Cin, H, W), output (N, Cout, Hout, Wout) for the geometry `g` of `plan`.
    static func run(_ plan: ConvTranspose2DPlan, _ g: ConvTranspose2DGeometry,
                    input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>,
                    threads: Int) {
        precondition(input.count == g.batch * g.inChannels * g.inHeight * g.inWidth, "input size")
        precondition(output.count == g.batch * g.outChannels * g.outHeight * g.outWidth, "output size")
        guard g.batch > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
        let tilePixels = ConvTransposeKernelShape.pixels, blockRows = ConvTransposeKernelShape.blockRows
        let (cInG, cOutG) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let (H, W, oH, oW) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sH, sW, pH, pW) = (g.strideH, g.strideW, g.padH, g.padW)
        let phasesH = plan.phasesH, phasesW = plan.phasesW
        let rangesH = phasesH.map { $0.outputRange(stride: sH, padding: pH, outSize: oH) }
        let rangesW = phasesW.map { $0.outputRange(stride: sW, padding: pW, outSize: oW) }
        let qMin = rangesH.map(\.lowerBound).min() ?? 0, qMax = rangesH.map(\.upperBound).max() ?? 0
        let rMin = rangesW.map(\.lowerBound).min() ?? 0, rMax = rangesW.map(\.upperBound).max() ?? 0
        let itemsPerImage = (qMax - qMin + itemRows - 1) / itemRows
        let pixelBlocks = (rMax - rMin + tilePixels - 1) / tilePixels
        let patchRows = (phasesH.map { $0.maxOffset - $0.minOffset }.max() ?? 0) + blockRows
        let patchColumns = (phasesW.map { $0.maxOffset - $0.minOffset }.max() ?? 0) + tilePixels
        let maxInputRows = plan.rowTables.flatMap { $0.map(\.inputRows.count) }.max() ?? 0

        // Flat copies of the small tables the kernel reads through pointers.
        let tables = ConvTransposeFlatTables(plan)
        defer { tables.deallocate() }

        plan.packed.withUnsafeBufferPointer { packedBuffer in
        plan.biasValues.withUnsafeBufferPointer { biasBuffer in
        plan.slopes.withUnsafeBufferPointer { slopesBuffer in
            let packed = packedBuffer.baseAddress!, bias = biasBuffer.baseAddress!, slopes = slopesBuffer.baseAddress!
            // Each item owns batch n, group grp and phase rows q ∈ [qStart, qEnd): the output rows
            // q·sH + ph − pH of every row phase ph, all columns, channels grp·cOutG ..< (grp+1)·cOutG.
            // Distinct (ph, q) give distinct rows, so no two items write the same element.
            parallelFor(g.batch * g.groups * itemsPerImage, threads: threads) { item in
                let n = item / (g.groups * itemsPerImage)
                let grp = (item / itemsPerImage) % g.groups
                let qStart = qMin + (item % itemsPerImage) * itemRows
                let qEnd = min(qStart + itemRows, qMax)
                let inputPlane = x + (n * g.inChannels + grp * cInG) * H * W   // (cInG, H, W)
                let patch = UnsafeMutablePointer<Float>.allocate(capacity: cInG * patchRows * patchColumns)
                let rowOffsets = UnsafeMutablePointer<Int>.allocate(capacity: max(1, maxInputRows))
                defer { patch.deallocate(); rowOffsets.deallocate() }

                for qs in stride(from: qStart, to: qEnd, by: blockRows) {
                    for k in 0..<pixelBlocks {
                        let r0 = rMin + k * tilePixels
                        for (phIndex, ph) in phasesH.enumerated() {
                            let rowLo = max(0, rangesH[phIndex].lowerBound - qs)
                            let rowHi = min(blockRows, rangesH[phIndex].upperBound - qs, qEnd - qs)
                            if rowLo >= rowHi { continue }
                            for (pwIndex, pw) in phasesW.enumerated() {
                                let laneLo = max(0, rangesW[pwIndex].lowerBound - r0)
                                let laneHi = min(tilePixels, rangesW[pwIndex].upperBound - r0)
                                if laneLo >= laneHi { continue }

                                // The input window of the block: rows h0...h1, columns w0...w1.
                                let h0 = qs + ph.minOffset, h1 = qs + blockRows - 1 + ph.maxOffset
                                let w0 = r0 + pw.minOffset, w1 = r0 + tilePixels - 1 + pw.maxOffset
                                let readsInput = !ph.taps.isEmpty && !pw.taps.isEmpty
                                var src = inputPlane, channelStride = H * W, rowStride = W, rowOrigin = qs
                                if readsInput {
                                    if h0 >= 0, h1 < H, w0 >= 0, w1 < W {
                                        src = inputPlane + r0
                                    } else {
                                        let rows = h1 - h0 + 1, columns = w1 - w0 + 1
                                        fillPatch(patch, from: inputPlane, channels: cInG, height: H, width: W,
                                                  rows: h0...h1, columns: w0...w1)
                                        src = UnsafePointer(patch) + (r0 - w0)
                                        channelStride = rows * columns
                                        rowStride = columns
                                        rowOrigin = qs - h0
                                    }
                                }
                                let oh0 = qs * sH + ph.phase - pH, ow0 = r0 * sW + pw.phase - pW
                                for (blockIndex, block) in plan.blocks.enumerated() {
                                    let shape = block.shape
                                    let table = plan.rowTables[phIndex][shape.rowChoiceIndex]
                                    let co = grp * cOutG + block.start
                                    for rr in stride(from: 0, to: blockRows, by: shape.rows) {
                                        let lo = max(rowLo - rr, 0), hi = min(rowHi - rr, shape.rows)
                                        if lo >= hi { continue }
                                        for j in 0..<table.inputRows.count {
                                            rowOffsets[j] = (rowOrigin + rr + table.inputRows[j]) * rowStride
                                        }
                                        let args = ConvTransposeKernelArgs(
                                            src: src, channelStride: channelStride, channels: cInG,
                                            rowOffsets: rowOffsets, inputRows: readsInput ? table.inputRows.count : 0,
                                            tapOfRow: tables.tapOfRow(ph: phIndex, rowChoice: shape.rowChoiceIndex),
                                            columnOffsets: tables.columnOffsets(pw: pwIndex),
                                            tapsH: ph.taps.count, tapsW: pw.taps.count,
                                            weights: packed + plan.packedOffset(group: grp, block: blockIndex, ph: phIndex, pw: pwIndex),
                                            bias: bias + co, slopes: slopes + co, activation: plan.activation,
                                            out: y,
                                            outOffset: ((n * g.outChannels + co) * oH + oh0 + rr * sH) * oW + ow0,
                                            outChannelStride: oH * oW, outRowStride: sH * oW, outColumnStride: sW,
                                            rowLo: lo, rowHi: hi, laneLo: laneLo, laneHi: laneHi)
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
        }
        }
    }

    /// Copies input rows `rows` × columns `columns` of every channel into `patch` (channels,
    /// rows.count, columns.count), with zeros where the window leaves the image.
    static func fillPatch(_ patch: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>,
                          channels: Int, height: Int, width: Int,
                          rows: ClosedRange<Int>, columns: ClosedRange<Int>) {
        let columnCount = columns.count
        let c0 = max(0, columns.lowerBound), c1 = min(width - 1, columns.upperBound)
        for ci in 0..<channels {
            for (i, h) in rows.enumerated() {
                let dst = patch + (ci * rows.count + i) * columnCount
                guard h >= 0, h < height, c0 <= c1 else {
                    dst.update(repeating: 0, count: columnCount)
                    continue
                }
                let left = c0 - columns.lowerBound, inside = c1 - c0 + 1
                dst.update(repeating: 0, count: left)
                (dst + left).update(from: plane + (ci * height + h) * width + c0, count: inside)
                (dst + left + inside).update(repeating: 0, count: columnCount - left - inside)
            }
        }
    }
}

/// The plan's small tables, flattened into raw memory the kernel can read through pointers.
struct ConvTransposeFlatTables {
    let tapOfRowStorage: UnsafeMutablePointer<Int32>
    let tapOfRowStart: [Int]        // (ph, rowChoice) -> start
    let columnOffsetStorage: UnsafeMutablePointer<Int>
    let columnOffsetStart: [Int]    // pw -> start
    let rowChoices: Int

    init(_ plan: ConvTranspose2DPlan) {
        rowChoices = ConvTransposeKernelShape.rowChoices.count
        let tapOfRow = plan.rowTables.flatMap { $0.map(\.tapOfRow) }
        tapOfRowStart = tapOfRow.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        tapOfRowStorage = .allocate(capacity: max(1, tapOfRowStart.last!))
        for (i, t) in tapOfRow.enumerated() {
            (tapOfRowStorage + tapOfRowStart[i]).initialize(from: t, count: t.count)
        }
        let columns = plan.phasesW.map(\.offsets)
        columnOffsetStart = columns.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        columnOffsetStorage = .allocate(capacity: max(1, columnOffsetStart.last!))
        for (i, c) in columns.enumerated() {
            (columnOffsetStorage + columnOffsetStart[i]).initialize(from: c, count: c.count)
        }
    }

    func tapOfRow(ph: Int, rowChoice: Int) -> UnsafePointer<Int32> {
        UnsafePointer(tapOfRowStorage + tapOfRowStart[ph * rowChoices + rowChoice])
    }
    func columnOffsets(pw: Int) -> UnsafePointer<Int> {
        UnsafePointer(columnOffsetStorage + columnOffsetStart[pw])
    }
    func deallocate() {
        tapOfRowStorage.deallocate()
        columnOffsetStorage.deallocate()
    }
}

/// Everything one kernel call needs: where to read, which taps, where to write.
struct ConvTransposeKernelArgs {
    var src: UnsafePointer<Float>          // input channel 0, column of lane 0; rows via rowOffsets
    var channelStride: Int
    var channels: Int                      // cInG
    var rowOffsets: UnsafePointer<Int>     // (inputRows): element offset of each input row from src
    var inputRows: Int
    var tapOfRow: UnsafePointer<Int32>     // (inputRows, R): row tap a, or −1
    var columnOffsets: UnsafePointer<Int>  // (tapsW): column offset of each column tap
    var tapsH: Int
    var tapsW: Int
    var weights: UnsafePointer<Float>      // (channels, tapsH, tapsW, CB)
    var bias: UnsafePointer<Float>         // (CB)
    var slopes: UnsafePointer<Float>       // (CB)
    var activation: ConvTransposeActivationMode
    var out: UnsafeMutablePointer<Float>
    var outOffset: Int                     // element (channel 0, row 0, lane 0); only valid ones are written
    var outChannelStride: Int
    var outRowStride: Int
    var outColumnStride: Int
    var rowLo: Int, rowHi: Int             // rows of the tile to store
    var laneLo: Int, laneHi: Int           // pixels of each row to store
}

/// The register tile: CB output channels × R output rows × V SIMD8 vectors of consecutive phase
/// columns, accumulated in registers over all input channels and taps (CB·R·V ≤ 12 of the 16 ymm).
///
/// Loop order: ci, input row j, column tap b, then for every output row r that uses row j (through
/// its row tap a) and every channel c: acc[c][r] += x[j, b + lanes] · w[ci, a, b, c]. Input vectors
/// are loaded once per (ci, j, b) and shared by all rows and channels of the tile.
enum ConvTransposeMicroKernel<let CB: Int, let R: Int, let V: Int> {
    typealias Vector = SIMD8<Float>

    @inline(never)
    static func run(_ k: ConvTransposeKernelArgs) {
        var acc = InlineArray<CB, InlineArray<R, InlineArray<V, Vector>>>(
            repeating: .init(repeating: .init(repeating: Vector())))
        for c in 0..<CB {
            let b = Vector(repeating: k.bias[c])
            for r in 0..<R { for v in 0..<V { acc[c][r][v] = b } }
        }
        let weightsPerChannel = k.tapsH * k.tapsW * CB
        for ci in 0..<k.channels {
            let xc = k.src + ci * k.channelStride
            let wc = k.weights + ci * weightsPerChannel
            for j in 0..<k.inputRows {
                let xr = xc + k.rowOffsets[j]
                let taps = k.tapOfRow + j * R
                for b in 0..<k.tapsW {
                    let xp = UnsafeRawPointer(xr + k.columnOffsets[b])
                    var xv = InlineArray<V, Vector>(repeating: Vector())
                    for v in 0..<V { xv[v] = xp.loadUnaligned(fromByteOffset: v * 32, as: Vector.self) }
                    for r in 0..<R {
                        let a = Int(taps[r])
                        if a < 0 { continue }
                        let wp = wc + (a * k.tapsW + b) * CB
                        for c in 0..<CB {
                            let w = Vector(repeating: wp[c])
                            for v in 0..<V { acc[c][r][v].addProduct(xv[v], w) }
                        }
                    }
                }
            }
        }
        store(acc, k)
    }

    /// Epilogue: activation, then the valid rows and lanes to the output.
    @inline(__always)
    static func store(_ acc: InlineArray<CB, InlineArray<R, InlineArray<V, Vector>>>, _ k: ConvTransposeKernelArgs) {
        let contiguous = k.outColumnStride == 1 && k.laneLo == 0 && k.laneHi == V * 8
        for c in 0..<CB {
            let slope = Vector(repeating: k.slopes[c])
            for r in 0..<R where r >= k.rowLo && r < k.rowHi {   // static r keeps acc in registers
                let rowStart = k.outOffset + c * k.outChannelStride + r * k.outRowStride
                for v in 0..<V {
                    var value = acc[c][r][v]
                    switch k.activation {
                    case .identity: break
                    case .relu: value.replace(with: 0, where: value .< 0)
                    case .slopes: value.replace(with: value * slope, where: value .< 0)
                    }
                    if contiguous {
                        UnsafeMutableRawPointer(k.out + rowStart + v * 8).storeBytes(of: value, as: Vector.self)
                    } else {
                        for lane in 0..<8 {
                            let i = v * 8 + lane
                            if i >= k.laneLo && i < k.laneHi { k.out[rowStart + i * k.outColumnStride] = value[lane] }
                        }
                    }
                }
            }
        }
    }
}
