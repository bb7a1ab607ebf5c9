// The sub-pixel kernel: +Fast's work items, bands and slot tables, with every column phase of a
// 3-output-channel strided layer in one register tile (waifu2x upconv_7's 256 → 3 4×4 stride-2 tail).
//
// +Fast runs each column phase pw and each block of output channels as its own call, so a layer with
// 3 output channels and stride 2 streams its whole input band (every input channel, from L2) through
// the registers once per column phase and row phase, for only 3 multiply-adds per loaded vector.
// Where every column phase reads the same input columns (the kernel width a multiple of the stride,
// e.g. 4×4 stride 2: offsets {−1, 0} for both phases), one tile here takes them all:
//
//   CB channels × R output rows (slots, as +Fast's: both row phases of a phase row for R = sH)
//     × P = sW column phases × V SIMD16 vectors of phase columns,
//
// so each input vector feeds CB·R·P multiply-adds (12 for upconv_7's tail, against +Fast's 3). The
// weights are +Fast's packing, `packed` (g, block, ph, pw, a, ci, b, c), read per (slot, pw).
//
// Determinism: for one output element (channel c, slot r, column phase p, lane) the kernel adds, for
// input rows j ascending (its row taps a ascending, see ConvTransposeSlotTable), for ci ascending, for
// column taps b ascending: the canonical order of ConvTranspose2D+Plan.swift. So it gives +Fast's
// bits, whatever the tile, chunk or thread count.
//
// Stores: the P phases of a tile interleave in the output (ow = r·sW + p − pW); the tile goes through
// a stack buffer and is stored lane by lane, as +Fast stores its strided tiles.
//
// Measured on Zen 4 (EPYC, AVX-512, 117 GFLOP/s FP32 peak per core), `upscale-bench layers` on
// upconv_7 at 270×480, one thread, quiet machine, two rounds each: the 256 → 3 tail 82–83 ms on +Fast
// (33% of the core's peak) → 52 ms here (52%); ncnn's Deconvolution alone on the same layer: 65 ms CPU.
// Inside the streamed network (540×960, 2 threads) the tail's share of CPU samples went 10.7–11.2% →
// 8.4–8.7%: its band copy, which this kernel does not change, is half of what remains.

/// Where the sub-pixel kernel applies, and its register tile for a layer.
enum ConvTransposeSubpixelShape: Sendable, Equatable {
    case channels3   // 3 channels × 2 rows × 2 column phases × 2 SIMD16 (24 accumulators)

    /// Floats in one vector of the tile.
    static let lanes = 16

    /// The tile for a layer, or nil where +Fast keeps it: stride 2 along the width with both column
    /// phases reading the same input columns (the same offsets, e.g. an even kernel width without
    /// dilation), and 3 output channels per group (RGB tails; one block of +Fast's).
    static func shape(_ g: ConvTranspose2DGeometry, phasesW: [ConvTransposeAxisPhase]) -> ConvTransposeSubpixelShape? {
        guard g.strideW == 2, phasesW.count == 2, !phasesW[0].offsets.isEmpty,
              phasesW.allSatisfy({ $0.offsets == phasesW[0].offsets }) else { return nil }
        return g.outChannelsPerGroup == 3 ? .channels3 : nil
    }

    /// Fewest input channels per group for which `.automatic` takes the kernel: below, the layer is
    /// small work whatever the kernel (a 3 → 3 2×2 stride-2 layer), and +Fast keeps it.
    static let minInputChannels = 16

    /// Whether `.automatic` takes the kernel, where it applies (`shape`), for a layer with geometry
    /// `g` on `isa`: its tiles are 24 SIMD16 accumulators, which fit AVX-512's 32 registers only.
    static func preferred(_ g: ConvTranspose2DGeometry, on isa: VectorISA) -> Bool {
        isa == .avx512 && g.inChannelsPerGroup >= minInputChannels
    }

    var rows: Int { 2 }
    var vectors: Int { 2 }
    /// Phase columns per tile.
    var pixels: Int { vectors * Self.lanes }
    var rowChoiceIndex: Int { rows == 1 ? 0 : rows == 2 ? 1 : 2 }
}

/// Everything one sub-pixel kernel call needs (+Fast's ConvTransposeKernelArgs with P column phases).
struct ConvTransposeSubpixelArgs {
    var src: UnsafePointer<Float>          // input channel 0, column of lane 0; rows via rowOffsets
    var channelStride: Int
    var channels: Int                      // cInG
    var rowOffsets: UnsafePointer<Int>     // (inputRows): element offset of each input row from src
    var inputRows: Int
    var tapOfRow: UnsafePointer<Int32>     // (inputRows, R): each slot's row tap a, or −1
    var columnOffsets: UnsafePointer<Int>  // (tapsW): column offset of each column tap, every phase's
    var tapsW: Int
    var slotWeights: UnsafePointer<UnsafePointer<Float>>  // (R, P): packed (tapsH, channels, tapsW, CB) of (slot's ph, pw)
    var bias: UnsafePointer<Float>         // (CB)
    var slopes: UnsafePointer<Float>       // (CB)
    var activation: ConvTransposeActivationMode
    var out: UnsafeMutablePointer<Float>
    var slotOut: UnsafePointer<Int>        // (R): element (channel 0, column 0) of each slot's output row
    var validSlots: Int                    // bit s: slot s is an output row to store
    var outChannelStride: Int
    var outColumnStride: Int               // sW
    var columnBase: UnsafePointer<Int>     // (P): output column of phase column 0 of phase p, p − pW
    var phaseColumnLo: UnsafePointer<Int>  // (P): first phase column of phase p to store
    var phaseColumnHi: UnsafePointer<Int>  // (P): end of the phase columns of phase p to store
    var firstColumn: Int                   // phase column of lane 0 of the first tile
    var tiles: Int                         // tiles side by side, each V·16 phase columns right of the last
}

/// The register tile: CB channels × R rows × P column phases × V SIMD16 vectors of phase columns.
///
/// Loop order: input row j, input channel ci, column tap b, then for every row r that uses row j,
/// every column phase p and channel c: acc[c][r][p] += x[ci, j, b + lanes] · w[(r, p), a, ci, b, c].
enum ConvTransposeSubpixelKernel<let CB: Int, let R: Int, let P: Int, let V: Int> {
    typealias Vector = SIMD16<Float>
    typealias Tile = InlineArray<CB, InlineArray<R, InlineArray<P, InlineArray<V, Vector>>>>

    @inline(never)
    static func run(_ k: ConvTransposeSubpixelArgs) {
        for tile in 0..<k.tiles {
            tileRun(k, shift: tile &* (V &* 16))
        }
    }

    @inline(__always)
    static func tileRun(_ k: ConvTransposeSubpixelArgs, shift: Int) {
        var acc = Tile(repeating: .init(repeating: .init(repeating: .init(repeating: Vector()))))
        for c in 0..<CB {
            let b = Vector(repeating: k.bias[c])
            for r in 0..<R { for p in 0..<P { for v in 0..<V { acc[c][r][p][v] = b } } }
        }
        let src = k.src + shift
        for j in 0..<k.inputRows {
            let taps = k.tapOfRow + j &* R
            if R == 1 {   // one row: every input row is a tap, a = j
                accumulate(&acc, mask: 1, taps: taps, j: j, src: src, k)
                continue
            }
            var mask = 0
            for r in 0..<R where taps[r] >= 0 { mask |= 1 << r }
            switch mask {
            case 1: accumulate(&acc, mask: 1, taps: taps, j: j, src: src, k)
            case 2: accumulate(&acc, mask: 2, taps: taps, j: j, src: src, k)
            case 3: accumulate(&acc, mask: 3, taps: taps, j: j, src: src, k)
            default: preconditionFailure("row mask \(mask) for a tile of \(R) rows")
            }
        }
        store(acc, k, shift: shift)
    }

    /// For input row j: acc[c][r][p] += x[ci, j, b + lanes] · w[(r, p), a(j, r), ci, b, c] for every
    /// input channel ci, column tap b, row r in `mask` (a constant once inlined), phase p and channel c.
    @inline(__always)
    static func accumulate(_ acc: inout Tile, mask: Int, taps: UnsafePointer<Int32>, j: Int,
                           src: UnsafePointer<Float>, _ k: ConvTransposeSubpixelArgs) {
        let weightsPerChannel = k.tapsW &* CB
        var weights = InlineArray<R, InlineArray<P, UnsafePointer<Float>>>(repeating: .init(repeating: k.slotWeights[0]))
        for r in 0..<R where mask & (1 << r) != 0 {
            let a = R == 1 ? j : Int(taps[r])
            for p in 0..<P { weights[r][p] = k.slotWeights[r &* P &+ p] + a &* k.channels &* weightsPerChannel }
        }
        var xr = src + k.rowOffsets[j] + k.columnOffsets[0]
        let step = k.tapsW > 1 ? k.columnOffsets[1] &- k.columnOffsets[0] : 0
        let tapsW = k.tapsW
        var wc = 0
        for _ in 0..<k.channels {
            for b in 0..<tapsW {
                let xp = UnsafeRawPointer(xr + b &* step)
                var xv = InlineArray<V, Vector>(repeating: Vector())
                for v in 0..<V { xv[v] = xp.loadUnaligned(fromByteOffset: v &* 64, as: Vector.self) }
                for r in 0..<R where mask & (1 << r) != 0 {
                    for p in 0..<P {
                        let wp = weights[r][p] + (wc &+ b &* CB)
                        for c in 0..<CB {
                            let w = Vector(repeating: wp[c])
                            for v in 0..<V { acc[c][r][p][v].addProduct(xv[v], w) }
                        }
                    }
                }
            }
            xr += k.channelStride
            wc &+= weightsPerChannel
        }
    }

    /// Epilogue: activation, then the valid rows and phase columns of each phase to the output.
    @inline(__always)
    static func store(_ acc: Tile, _ k: ConvTransposeSubpixelArgs, shift: Int) {
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: CB * R * P * V) { tile in
            for c in 0..<CB { for r in 0..<R { for p in 0..<P { for v in 0..<V {
                tile[((c * R + r) * P + p) * V + v] = acc[c][r][p][v]
            } } } }
            let column0 = k.firstColumn + shift   // phase column of lane 0
            for p in 0..<P {
                let lo = max(k.phaseColumnLo[p] - column0, 0), hi = min(k.phaseColumnHi[p] - column0, V * 16)
                if lo >= hi { continue }
                for c in 0..<CB {
                    let slope = Vector(repeating: k.slopes[c])
                    for r in 0..<R where k.validSlots & (1 << r) != 0 {
                        let rowStart = k.slotOut[r] + c * k.outChannelStride + k.columnBase[p]
                        for v in 0..<V {
                            let vlo = max(lo - v * 16, 0), vhi = min(hi - v * 16, 16)
                            if vlo >= vhi { continue }
                            let value = k.activation.apply(tile[((c * R + r) * P + p) * V + v], slope: slope)
                            for lane in vlo..<vhi {
                                k.out[rowStart + (column0 + v * 16 + lane) * k.outColumnStride] = value[lane]
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ConvTransposeRunContext {
    /// The sub-pixel kernel's calls for one block of phase rows qs ..< qs + blockRows of work item
    /// (n, grp, qStart ..< qEnd) on the band of `chunk` (see `runItem`, whose buffers it fills): every
    /// column phase at once, for each block of output channels, slot table and group of rows.
    func runSubpixel(_ shape: ConvTransposeSubpixelShape, n: Int, grp: Int, chunk: Int, qStart: Int, qs: Int,
                     qEnd: Int, band: UnsafeMutablePointer<Float>, rowOffsets: UnsafeMutablePointer<Int>,
                     slotWeights: UnsafeMutablePointer<UnsafePointer<Float>>, slotOut: UnsafeMutablePointer<Int>,
                     output y: UnsafeMutablePointer<Float>) {
        let (cInG, cOutG) = (g.inChannelsPerGroup, g.outChannelsPerGroup)
        let (sH, sW, pH, pW) = (g.strideH, g.strideW, g.padH, g.padW)
        let R = shape.rows, blockRows = ConvTransposeKernelShape.blockRows
        // Phase columns of this chunk with outputs of any column phase: tiles first ... last.
        let lo = max(rMin, chunk), hi = min(rMax, chunk + chunkPixels)
        if lo >= hi { return }
        let first = (lo - chunk) / tilePixels, last = (hi - 1 - chunk) / tilePixels
        let r0 = chunk + first * tilePixels
        let src = UnsafePointer(band) + (r0 - chunk - minOffsetW)   // band column of r0
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * sW) { columns in
            // columns: (3, sW): each phase's output column base p − pW, then its phase columns in this chunk.
            for p in 0..<sW {
                columns[p] = phasesW[p].phase - pW
                columns[sW + p] = max(phasesW[p].qLo, chunk)
                columns[2 * sW + p] = min(phasesW[p].qHi, chunk + chunkPixels)
            }
            let columnBase = UnsafePointer(columns.baseAddress!)
            for blockIndex in 0..<blockCount {
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
                            for p in 0..<sW {
                                slotWeights[slot * sW + p] = packed + packedOffsets[(packedBlock + phIndex) * sW + p]
                            }
                            slotOut[slot] = layouts.output.offset(n, co, q * sH + ph.phase - pH)
                        }
                        if valid == 0 { continue }
                        let rows = inputRowCount[t]
                        for j in 0..<rows {
                            rowOffsets[j] = (qs - qStart + dq + inputRows[t][j] - minOffsetH) * bandColumns
                        }
                        let args = ConvTransposeSubpixelArgs(
                            src: src, channelStride: bandRows * bandColumns, channels: cInG,
                            rowOffsets: rowOffsets, inputRows: rows, tapOfRow: tapOfRow[t],
                            columnOffsets: columnOffsets[0], tapsW: phasesW[0].taps,
                            slotWeights: slotWeights, bias: bias + co, slopes: slopes + co,
                            activation: activation, out: y, slotOut: slotOut, validSlots: valid,
                            outChannelStride: layouts.output.channelStride, outColumnStride: sW, columnBase: columnBase,
                            phaseColumnLo: columnBase + sW, phaseColumnHi: columnBase + 2 * sW,
                            firstColumn: r0, tiles: last - first + 1)
                        switch shape {
                        case .channels3: ConvTransposeSubpixelKernel<3, 2, 2, 2>.run(args)
                        }
                    }
                }
            }
        }
    }
}
