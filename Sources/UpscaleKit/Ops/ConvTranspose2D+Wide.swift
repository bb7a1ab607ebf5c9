// The wide conv_transpose2d kernel: stride-1 layers with many input and output channels
// (waifu2x upconv_7's and Real-ESRGAN compact's 3×3 64–256-channel layers), output channels in
// SIMD lanes.
//
// A stride-1 conv_transpose2d is a correlation with the flipped kernel (see +Phases): output
// (co, oh, ow) reads input (ci, oh + pH − kh·dH, ow + pW − kw·dW). Here one register tile holds
// CV vectors of `lanes` consecutive output channels × P consecutive output pixels of one row:
// for each (row tap a, input channel ci, column tap b) it loads the CV weight vectors
// w[a, ci, b, co …] once and, for each pixel, broadcasts one input value and multiply-adds it into
// the pixel's CV channel vectors. So every input load feeds CV·lanes output channels and every
// weight load P pixels; the narrow kernel (+Fast) puts pixels in lanes and broadcasts weights,
// which feeds at most 4 channels per input load.
//
// A work item is `itemRows` output rows of one image and group. It walks the columns in chunks;
// for each chunk it copies the input window those rows and columns read (every input channel of
// the group) into a zero-padded band (`fillPatch`, as +Fast). Then for each block of CV·lanes
// output channels (its weights, 9·Cin·CV·lanes floats for a 3×3 kernel, stay in L2 while the block
// runs), for each row and each tile of P pixels: accumulate, apply the activation, and put the
// channel vectors in a stack buffer, which is written to the NCHW output one channel row at a time.
//
// Weights: packed (g, block, a, ci, b, CV·lanes), see ConvTransposeWidePack.
// Output size: as every stride-1 conv_transpose2d, Hout = H − 2·pH + dH·(kH − 1) + opH (Wout likewise).
//
// Determinism: per output element, acc = bias; then for row tap a, for ci ascending, for column
// tap b (taps in canonical order): acc = fma(x, w, acc); then the activation: the order of
// ConvTranspose2D+Plan.swift, "Determinism", so this kernel gives the same bits as +Fast. Taps
// outside the image read the band's exact zeros. Nothing depends on the element's position, the
// tile, the chunk, the thread count or the block: a partial tile (last pixels of a row, last
// channels of a group) runs the same instructions and stores only its valid elements.

/// Where the wide kernel runs, and its packed weights.
struct ConvTransposeWidePack: Sendable {
    typealias Vector = ConvTransposeWideKernel<1, 1>.Vector
    static var lanes: Int { Vector.scalarCount }

    /// Fewest input and output channels per group that take the wide kernel (stride 1 only): one
    /// full output vector. The built-in models' 16 → 16 body layers take it (their x2/x3/x4 networks
    /// ran 0.85–0.97× the time of the narrow kernel at 1080p, Zen 4, paired, BENCHMARKS.md); the
    /// FSRCNN-class layers (12 → 12, 56 → 12, 12 → 56) stay narrow. Both give the same bits (header).
    static let minChannels = (input: 16, output: 16)

    /// A run of output channels of one group that one kernel call accumulates: `vectors` channel
    /// vectors (`lanes` channels each; lanes past the group's end are zero weights, never stored).
    struct Block: Equatable, Sendable {
        var start: Int
        var vectors: Int
        var packedOffset: Int       // start of its weights in `packed`, group 0
        var laneOffset: Int         // start of its bias and slopes in `bias`, `slopes`, group 0
    }

    let blocks: [Block]             // per group; the same for every group
    let groupStride: Int            // floats of `packed` per group
    let groupLanes: Int             // floats of `bias`, `slopes` per group
    let packed: [Float]             // (g, block, a, ci, b, vectors·lanes)
    let bias: [Float]               // (g, block, vectors·lanes), 0 past cOutG
    let slopes: [Float]             // (g, block, vectors·lanes), 0 past cOutG

    /// Whether a layer with geometry `g` takes the wide kernel.
    static func applies(_ g: ConvTranspose2DGeometry) -> Bool {
        g.strideH == 1 && g.strideW == 1
            && g.inChannelsPerGroup >= minChannels.input && g.outChannelsPerGroup >= minChannels.output
    }

    /// Blocks of 4 vectors (the widest tile) while more than 3 vectors remain, then one block of the
    /// 1–4 vectors left.
    static func split(_ cOutG: Int) -> [(start: Int, vectors: Int)] {
        var blocks: [(start: Int, vectors: Int)] = []
        var start = 0
        while start < cOutG {
            let vectors = min(4, (cOutG - start + lanes - 1) / lanes)
            blocks.append((start, vectors))
            start += vectors * lanes
        }
        return blocks
    }

    // src = weight (Cin, Cout/g, kH, kW), PyTorch's layout; bias, slopes (Cout)
    // dst = packed (g, block, a, ci, b, vectors·lanes): row tap a and column tap b in canonical
    //       order (kernel index descending, see +Phases), the block's output channels innermost
    //       (the lanes of the kernel's weight vectors), zero past the group's last channel.
    init(weight w: [Float], bias: [Float], slopes: [Float], _ g: ConvTranspose2DGeometry) {
        (blocks, groupStride, groupLanes, packed, self.bias, self.slopes) =
            Self.pack(weight: w, bias: bias, slopes: slopes, g, lanes: Self.lanes, split: Self.split(g.outChannelsPerGroup))
    }

    /// The layout above for `split`'s blocks of `lanes`-channel vectors; +Direct packs its blocks
    /// (SIMD8 or SIMD16, its own block widths) the same way.
    static func pack(weight w: [Float], bias: [Float], slopes: [Float], _ g: ConvTranspose2DGeometry, lanes: Int,
                     split: [(start: Int, vectors: Int)])
        -> (blocks: [Block], groupStride: Int, groupLanes: Int, packed: [Float], bias: [Float], slopes: [Float]) {
        let (cInG, cOutG, kH, kW) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        var blocks: [Block] = []
        var (packedCount, laneCount) = (0, 0)
        for (start, vectors) in split {
            blocks.append(Block(start: start, vectors: vectors, packedOffset: packedCount, laneOffset: laneCount))
            packedCount += kH * cInG * kW * vectors * lanes
            laneCount += vectors * lanes
        }
        var packed = [Float](repeating: 0, count: g.groups * packedCount)
        var paddedBias = [Float](repeating: 0, count: g.groups * laneCount)
        var paddedSlopes = paddedBias
        for grp in 0..<g.groups {
            for block in blocks {
                let width = block.vectors * lanes
                for c in 0..<width where block.start + c < cOutG {
                    paddedBias[grp * laneCount + block.laneOffset + c] = bias[grp * cOutG + block.start + c]
                    paddedSlopes[grp * laneCount + block.laneOffset + c] = slopes[grp * cOutG + block.start + c]
                }
                var i = grp * packedCount + block.packedOffset
                for a in 0..<kH {
                    for ci in 0..<cInG {
                        for b in 0..<kW {
                            let (kh, kw) = (kH - 1 - a, kW - 1 - b)
                            for c in 0..<width {
                                let co = block.start + c
                                if co < cOutG { packed[i] = w[(((grp * cInG + ci) * cOutG + co) * kH + kh) * kW + kw] }
                                i += 1
                            }
                        }
                    }
                }
            }
        }
        return (blocks, packedCount, laneCount, packed, paddedBias, paddedSlopes)
    }
}

enum ConvTranspose2DWide {
    /// Output rows per work item.
    static let itemRows = 8
    /// Size budget of a worker's input band, beside one block's weights in L2.
    static let bandBytes = 256 * 1024
    /// Chunks of columns are multiples of this: every tile's pixel count divides it.
    static let chunkUnit = 24

    /// input (N, Cin, H, W) → output (N, Cout, Hout, Wout) for the stride-1 geometry `g` of `plan`.
    /// Writes every output element exactly once.
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeWidePack, _ g: ConvTranspose2DGeometry,
                    input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    layouts: ConvTransposeLayouts, threads: Int) {
        precondition(g.strideH == 1 && g.strideW == 1, "the wide kernel is for stride 1")
        guard g.batch > 0, g.outHeight > 0, g.outWidth > 0 else { return }
        let itemsPerImage = (g.outHeight + itemRows - 1) / itemRows
        pack.packed.withUnsafeBufferPointer { packed in
        pack.bias.withUnsafeBufferPointer { bias in
        pack.slopes.withUnsafeBufferPointer { slopes in
            let context = ConvTransposeWideContext(g: g, pack: pack, packed: packed.baseAddress!,
                                                   bias: bias.baseAddress!, slopes: slopes.baseAddress!,
                                                   activation: plan.activation, itemsPerImage: itemsPerImage,
                                                   layouts: layouts)
            // Each item owns batch n, group grp and output rows [oh0, oh0 + itemRows) of channels
            // grp·cOutG ..< (grp+1)·cOutG, all columns: distinct items write distinct elements.
            parallelFor(g.batch * g.groups * itemsPerImage, threads: threads) { item in
                context.runItem(item, input: x, output: y)
            }
        }
        }
        }
    }
}

/// Everything a work item of the wide kernel reads, as plain values and raw pointers.
/// Unchecked: the pointers outlive the call; workers only read through them, except the output,
/// where each work item writes its own rows and channels (disjoint, see `run`).
struct ConvTransposeWideContext: @unchecked Sendable {
    let g: ConvTranspose2DGeometry
    let pack: ConvTransposeWidePack
    let packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, slopes: UnsafePointer<Float>
    let activation: ConvTransposeActivationMode
    let itemsPerImage: Int
    let layouts: ConvTransposeLayouts   // where the input lies and the output goes

    /// Computes work item `item` (see `ConvTranspose2DWide.run` for what it owns).
    func runItem(_ item: Int, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        let (cInG, cOutG, kH, kW) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        let walk = ConvTransposeBandItem(item, g, itemsPerImage: itemsPerImage, itemRows: ConvTranspose2DWide.itemRows,
                                         chunkUnit: ConvTranspose2DWide.chunkUnit, bandBytes: ConvTranspose2DWide.bandBytes)
        let (n, grp, oh0, rows, bandRows, bandColumns) = (walk.n, walk.group, walk.firstRow, walk.rows, walk.bandRows, walk.bandColumns)
        walk.forEachChunk(g, input: x, layouts.input) { band, chunk, pixels in
            for block in pack.blocks {
                let co = grp * cOutG + block.start
                var args = ConvTransposeWideArgs(
                    src: band, channelStride: bandRows * bandColumns, channels: cInG,
                    rowStep: g.dilationH * bandColumns, tapsH: kH, columnStep: g.dilationW, tapsW: kW,
                    weights: packed + grp * pack.groupStride + block.packedOffset,
                    bias: bias + grp * pack.groupLanes + block.laneOffset,
                    slopes: slopes + grp * pack.groupLanes + block.laneOffset, activation: activation,
                    out: y, outChannelStride: layouts.output.channelStride,
                    outputChannels: min(block.vectors * ConvTransposeWidePack.lanes, cOutG - block.start),
                    pixels: pixels)
                for row in 0..<rows {
                    args.src = band + row * bandColumns
                    args.out = y + layouts.output.offset(n, co, oh0 + row) + chunk
                    switch block.vectors {
                    case 4: ConvTransposeWideKernel<4, 6>.run(args)
                    case 3: ConvTransposeWideKernel<3, 8>.run(args)
                    case 2: ConvTransposeWideKernel<2, 8>.run(args)
                    default: ConvTransposeWideKernel<1, 8>.run(args)
                    }
                }
            }
        }
    }
}

/// One call of the wide kernel: one output row segment of one channel block.
struct ConvTransposeWideArgs {
    var src: UnsafePointer<Float>          // band at channel 0, first row tap, first column tap of pixel 0
    var channelStride: Int
    var channels: Int                      // cInG
    var rowStep: Int                       // band elements between row taps a and a + 1
    var tapsH: Int
    var columnStep: Int                    // band elements between column taps b and b + 1
    var tapsW: Int
    var weights: UnsafePointer<Float>      // (tapsH, channels, tapsW, CV·lanes)
    var bias: UnsafePointer<Float>         // (CV·lanes)
    var slopes: UnsafePointer<Float>       // (CV·lanes)
    var activation: ConvTransposeActivationMode
    var out: UnsafeMutablePointer<Float>   // output channel 0 of the block, pixel 0 of the segment
    var outChannelStride: Int
    var outputChannels: Int                // valid channels of the block (≤ CV·lanes)
    var pixels: Int                        // pixels of the segment: tiles of P, the last one partial
}

/// The register tile: CV vectors of output channels × P output pixels, accumulated over all row
/// taps, input channels and column taps. The shapes the driver uses, 4×6, 3×8, 2×8 and 1×8, hold
/// at most 24 SIMD16 accumulators: 24 of the 32 registers of AVX-512. Chosen on Zen 4 (AMD EPYC
/// family 25 model 17): 4×6 and 3×8 keep every accumulator in a register there, 2×12 did not (the
/// compiler left the accumulators in memory). On a 16-register AVX2 machine a SIMD16 is two
/// registers and these tiles spill: re-measure there before relying on them.
enum ConvTransposeWideKernel<let CV: Int, let P: Int> {
    typealias Vector = SIMD16<Float>

    /// Pixels of a segment that go through the stack buffer at a time.
    static var stagePixels: Int { 48 }

    /// The segment's tiles side by side. Each tile's activated channel vectors go to a stack buffer
    /// (pixels, CV·lanes); every `stagePixels` pixels the buffer is written out channel by channel
    /// (the output is NCHW): one contiguous run per channel instead of P pixels in each of CV·lanes
    /// output planes per tile. (Measured within the noise of storing per tile; the stores and the
    /// output's memory traffic together are about a tenth of the kernel's time, see BENCHMARKS.md.)
    @inline(never)
    static func run(_ k: ConvTransposeWideArgs) {
        precondition(24 % P == 0 && stagePixels % P == 0, "a tile's pixels divide ConvTranspose2DWide.chunkUnit")
        let width = CV * Vector.scalarCount
        withUnsafeTemporaryAllocation(of: Float.self, capacity: stagePixels * width) { buffer in
            let stage = buffer.baseAddress!   // (stagePixels, CV·lanes)
            for first in stride(from: 0, to: k.pixels, by: stagePixels) {
                let count = min(stagePixels, k.pixels &- first)
                for start in stride(from: first, to: first &+ count, by: P) {
                    tile(k, start: start, into: stage + (start &- first) &* width)
                }
                for c in 0..<k.outputChannels {
                    let row = k.out + (c &* k.outChannelStride &+ first)
                    for p in 0..<count { row[p] = stage[p &* width &+ c] }
                }
            }
        }
    }

    /// One tile: pixels start ..< start + P of the segment, activated, to `stage` (P, CV·lanes).
    @inline(__always)
    static func tile(_ k: ConvTransposeWideArgs, start: Int, into stage: UnsafeMutablePointer<Float>) {
        var acc = InlineArray<CV, InlineArray<P, Vector>>(repeating: .init(repeating: Vector()))
        let lanes = Vector.scalarCount
        for v in 0..<CV {
            let b = UnsafeRawPointer(k.bias + v &* lanes).loadUnaligned(as: Vector.self)
            for p in 0..<P { acc[v][p] = b }
        }
        // Index arithmetic wraps (&+, &*): the driver keeps every index inside its buffers.
        var wp = k.weights
        for a in 0..<k.tapsH {
            var xr = k.src + (a &* k.rowStep &+ start)
            for _ in 0..<k.channels {
                var xp = xr
                for _ in 0..<k.tapsW {
                    var w = InlineArray<CV, Vector>(repeating: Vector())
                    for v in 0..<CV { w[v] = UnsafeRawPointer(wp + v &* lanes).loadUnaligned(as: Vector.self) }
                    for p in 0..<P {
                        let x = Vector(repeating: xp[p])
                        for v in 0..<CV { acc[v][p].addProduct(w[v], x) }
                    }
                    wp += CV &* lanes
                    xp += k.columnStep
                }
                xr += k.channelStride
            }
        }
        for v in 0..<CV {
            let slope = UnsafeRawPointer(k.slopes + v &* lanes).loadUnaligned(as: Vector.self)
            for p in 0..<P {
                UnsafeMutableRawPointer(stage + (p &* CV &+ v) &* lanes).storeBytes(
                    of: k.activation.apply(acc[v][p], slope: slope), as: Vector.self)
            }
        }
    }
}

/// A work item of the band kernels (+Wide, +Direct): output rows `firstRow ..< firstRow + rows` of
/// image `n` and group `group`, computed chunk by chunk of output columns from a zero-padded band of
/// the input (all `bandRows` input rows the item's rows read, the columns a chunk reads).
struct ConvTransposeBandItem {
    let n: Int, group: Int, firstRow: Int, rows: Int
    let bandRows: Int, bandColumns: Int, chunkPixels: Int
    let spanH: Int, spanW: Int

    /// Item `item` of `itemsPerImage` per image and group, `itemRows` output rows each; chunks are a
    /// multiple of `chunkUnit` pixels (every tile's width, so that only a row's last tile is partial)
    /// with the band within `bandBytes`, and at most `maxPixels(rows)` pixels.
    init(_ item: Int, _ g: ConvTranspose2DGeometry, itemsPerImage: Int, itemRows: Int, chunkUnit unit: Int, bandBytes: Int,
         maxPixels: (Int) -> Int = { _ in .max }) {
        n = item / (g.groups * itemsPerImage)
        group = (item / itemsPerImage) % g.groups
        firstRow = (item % itemsPerImage) * itemRows
        rows = min(itemRows, g.outHeight - firstRow)
        // Output (oh, ow) reads input rows oh + pH − (kH−1)·dH + a·dH, a ∈ 0..<kH (canonical order),
        // and columns likewise: the band starts at the first of them.
        (spanH, spanW) = ((g.kernelHeight - 1) * g.dilationH, (g.kernelWidth - 1) * g.dilationW)
        bandRows = rows + spanH
        let units = (g.outWidth + unit - 1) / unit
        let fit = min(bandBytes / (MemoryLayout<Float>.size * g.inChannelsPerGroup * bandRows) - spanW, maxPixels(rows))
        chunkPixels = min(max(1, fit / unit), units) * unit
        bandColumns = chunkPixels + spanW
    }

    /// For each chunk of output columns: fills the band (cInG, bandRows, bandColumns) with the input
    /// rows firstRow + pH − spanH … and columns chunk + pW − spanW … (zeros outside the input), then
    /// calls `body(band, chunk, pixels)` for the chunk's first column and width.
    func forEachChunk(_ g: ConvTranspose2DGeometry, input x: UnsafePointer<Float>, _ inputLayout: ConvTransposeMapLayout,
                      _ body: (UnsafePointer<Float>, Int, Int) -> Void) {
        let cInG = g.inChannelsPerGroup
        let band = UnsafeMutablePointer<Float>.allocate(capacity: cInG * bandRows * bandColumns)
        defer { band.deallocate() }
        for chunk in stride(from: 0, to: g.outWidth, by: chunkPixels) {
            ConvTranspose2DFast.fillPatch(band, from: x, inputLayout, n: n, firstChannel: group * cInG, channels: cInG,
                                          height: g.inHeight, width: g.inWidth,
                                          firstRow: firstRow + g.padH - spanH, rows: bandRows,
                                          firstColumn: chunk + g.padW - spanW, columns: bandColumns)
            body(UnsafePointer(band), chunk, min(chunkPixels, g.outWidth - chunk))
        }
    }
}
