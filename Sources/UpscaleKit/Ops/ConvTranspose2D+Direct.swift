// The direct conv_transpose2d kernel: stride-1, dilation-1 3×3 and 1×1 layers with ≥ 32 channels in
// and out (waifu2x upconv_7, Real-ESRGAN SRVGGNetCompact, RRDBNet and SPAN bodies, SPAN's 192 → 48
// concat 1×1): a GEMM over a cache-blocked reduction, weights in L1.
//
// A stride-1 conv_transpose2d is a correlation with the flipped kernel (see +Phases):
//   out[co, oh, ow] = act( bias[co] + Σ_a Σ_ci Σ_b x[ci, oh + pH − (kH−1) + a, ow + pW − (kW−1) + b] · W'[a, ci, b, co] )
// with W'[a, ci, b, co] = W[ci, co, kH−1−a, kW−1−b]. Hout = H − 2·pH + kH − 1 + opH (Wout likewise).
// Read as a matrix product: pixels × K times K × Cout, K = kH·Cin·kW in the order (a, ci, b).
//
// The register tile is CV vectors of `lanes` output channels × P output pixels of one row (+Wide's
// tile): per K step it loads CV weight vectors and broadcasts P input values. +Wide runs each tile
// over the whole K, so a block's weights (kH·Cin·kW·CV·lanes floats: 144 KiB for 64 → 64 3×3) stream
// from L2 for every tile. Here K is cut into panels of one row tap a and a run of Kc input channels
// (Kc·kW·CV·lanes floats, within `panelBytes`, so the panel stays in L1), and every tile of the work
// item runs panel by panel: the first panel starts from the bias, the others from the tile's partial
// sums, which every panel leaves in a scratch buffer (pixels, CV·lanes). A float stored and reloaded
// is the same float, so that changes the memory traffic, not the arithmetic.
// Measured (BENCHMARKS.md, issue 26): on Zen 4 this runs at +Wide's speed, 80–90% of the SIMD16 peak;
// its 1 MiB L2 streams +Wide's weights fast enough. The blocking is for smaller or slower L2s, the
// SIMD8 tiles for AVX2 CPUs, where +Wide's SIMD16 tiles take two registers a vector and spill
// (neither measured on such a CPU yet: Zen 3, Ice Lake).
//
// A work item is `itemRows` output rows of one image and group. It walks the columns in chunks: for
// each it copies the input window into a zero-padded band (`fillPatch`, as +Fast and +Wide), then
// for each block of CV·lanes output channels, for each panel, runs every tile of every row of the
// chunk; then writes the block's sums through the activation to the NCHW output channel by channel.
//
// Vector width: SIMD16 tiles (4 × 6: 24 accumulators + 4 weight vectors + 1 broadcast of AVX-512's
// 32 registers) where the CPU has AVX-512, SIMD8 tiles (2 × 6: 12 + 2 + 1 of AVX2's 16) elsewhere:
// `VectorISA.current`.
//
// Determinism: per output element, acc = bias; then for row tap a, for ci ascending, for column
// tap b (kernel index descending): acc = fma(x, w, acc); then the activation: the order of
// ConvTranspose2D+Plan.swift, "Determinism", so this kernel gives the same bits as +Fast and +Wide,
// at either vector width. Taps outside the image read the band's exact zeros. Nothing depends on
// the element's position, the tile, the chunk, the panel size, the thread count or the block.

/// Where the direct kernel runs, and its packed weights.
struct ConvTransposeDirectPack: Sendable {
    /// Fewest input and output channels per group of the layers that take the kernel. Narrower
    /// layers keep +Wide (the built-ins' 16 → 16) or +Fast (the FSRCNN built-ins' 12 → 56 1×1).
    static let minChannels = (input: 32, output: 32)

    /// Whether the plan's automatic choice takes this kernel on a CPU with `isa` (where it applies).
    /// Not on AVX-512: there +Wide's SIMD16 tiles fit the 32 registers, and on Zen 4 (AMD EPYC family
    /// 25 model 17) whole networks ran 3–5% faster on +Wide (upconv_7 at 540×960, CPU time, paired,
    /// BENCHMARKS.md, issue 26), the layers alone alike. On AVX2 +Wide's SIMD16 accumulators take two
    /// of the 16 registers each and spill; this kernel's SIMD8 tiles do not. Re-measure on Ice Lake
    /// and Zen 3 (`upscale-bench kernels`) before changing this.
    static func preferred(on isa: VectorISA) -> Bool { isa != .avx512 }

    /// A run of output channels of one group that one tile accumulates: +Wide's block, with
    /// this kernel's vector width.
    typealias Block = ConvTransposeWidePack.Block

    let lanes: Int                  // 16 (AVX-512) or 8
    let blockVectors: Int           // vectors of a full block: 4 × 16 or 2 × 8 channels
    let blocks: [Block]             // per group; the same for every group
    let groupStride: Int            // floats of `packed` per group
    let groupLanes: Int             // floats of `bias`, `slopes` per group
    let packed: [Float]             // (g, block, a, ci, b, vectors·lanes)
    let bias: [Float]               // (g, block, vectors·lanes), 0 past cOutG
    let slopes: [Float]             // (g, block, vectors·lanes), 0 past cOutG

    /// Whether a layer with geometry `g` takes the direct kernel.
    static func applies(_ g: ConvTranspose2DGeometry) -> Bool {
        guard g.strideH == 1, g.strideW == 1, g.dilationH == 1, g.dilationW == 1,
              g.inChannelsPerGroup >= minChannels.input, g.outChannelsPerGroup >= minChannels.output else { return false }
        switch (g.kernelHeight, g.kernelWidth) {
        case (3, 3), (1, 1): return true
        default: return false
        }
    }

    /// Full blocks of `blockVectors` vectors while more remain, then one block of the vectors left.
    static func split(_ cOutG: Int, lanes: Int, blockVectors: Int) -> [(start: Int, vectors: Int)] {
        var blocks: [(start: Int, vectors: Int)] = []
        var start = 0
        while start < cOutG {
            let vectors = min(blockVectors, (cOutG - start + lanes - 1) / lanes)
            blocks.append((start, vectors))
            start += vectors * lanes
        }
        return blocks
    }

    // src = weight (Cin, Cout/g, kH, kW), PyTorch's layout; bias, slopes (Cout)
    // dst = packed (g, block, a, ci, b, vectors·lanes): row tap a and column tap b in canonical
    //       order (kernel index descending, see +Phases), the block's output channels innermost
    //       (the lanes of the kernel's weight vectors), zero past the group's last channel. A panel
    //       (block, a, ci0 ..< ci1, all b) is one contiguous run.
    init(weight w: [Float], bias: [Float], slopes: [Float], _ g: ConvTranspose2DGeometry, isa: VectorISA) {
        lanes = isa.lanes
        blockVectors = isa == .avx512 ? 4 : 2
        (blocks, groupStride, groupLanes, packed, self.bias, self.slopes) = ConvTransposeWidePack.pack(
            weight: w, bias: bias, slopes: slopes, g, lanes: lanes,
            split: Self.split(g.outChannelsPerGroup, lanes: lanes, blockVectors: blockVectors))
    }
}

enum ConvTranspose2DDirect {
    /// Output rows per work item: each weight panel serves all their tiles.
    static let itemRows = 8
    /// Budget of one weight panel: half of a 32 KiB L1 data cache (Zen 3, Zen 4; Ice Lake has
    /// 48 KiB), the rest for the input rows and partial sums the tiles touch.
    static let panelBytes = 16 * 1024
    /// Budget of a worker's input band, as +Wide's, and of the partial sums of its rows, which come
    /// on top: together within a 512 KiB L2 (Zen 3; Zen 4 has 1 MiB, Ice Lake 1.25 MiB). One budget
    /// for both halved the chunks of 128-channel layers (24 columns) and made upconv_7 5–8% slower
    /// than +Wide (2026-12-07, Zen 4).
    static let bandBytes = 256 * 1024
    static let scratchBytes = 192 * 1024
    /// Chunks of columns are multiples of this: every tile's pixel count divides it.
    static let chunkUnit = 24

    /// input (N, Cin, H, W) → output (N, Cout, Hout, Wout) for the stride-1 geometry `g` of `plan`.
    /// Writes every output element exactly once.
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeDirectPack, _ g: ConvTranspose2DGeometry,
                    input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    layouts: ConvTransposeLayouts, threads: Int) {
        precondition(g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1,
                     "the direct kernel is for stride 1, dilation 1")
        guard g.batch > 0, g.outHeight > 0, g.outWidth > 0 else { return }
        let itemsPerImage = (g.outHeight + itemRows - 1) / itemRows
        pack.packed.withUnsafeBufferPointer { packed in
        pack.bias.withUnsafeBufferPointer { bias in
        pack.slopes.withUnsafeBufferPointer { slopes in
            let context = ConvTransposeDirectContext(g: g, pack: pack, packed: packed.baseAddress!,
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

    /// The panels of the reduction for `channels` input channels and `kW` column taps of a block of
    /// `width` output channels: as few runs of input channels as keep each within `panelBytes`,
    /// of near-equal size. Returns the run length (the last run may be shorter).
    static func panelChannels(channels: Int, kW: Int, width: Int) -> Int {
        let fit = max(1, panelBytes / (MemoryLayout<Float>.size * kW * width))
        let panels = (channels + fit - 1) / fit
        return (channels + panels - 1) / panels
    }
}

/// Everything a work item of the direct kernel reads, as plain values and raw pointers.
/// Unchecked: the pointers outlive the call; workers only read through them, except the output,
/// where each work item writes its own rows and channels (disjoint, see `run`).
struct ConvTransposeDirectContext: @unchecked Sendable {
    let g: ConvTranspose2DGeometry
    let pack: ConvTransposeDirectPack
    let packed: UnsafePointer<Float>, bias: UnsafePointer<Float>, slopes: UnsafePointer<Float>
    let activation: ConvTransposeActivationMode
    let itemsPerImage: Int
    let layouts: ConvTransposeLayouts   // where the input lies and the output goes

    /// Computes work item `item` (see `ConvTranspose2DDirect.run` for what it owns).
    func runItem(_ item: Int, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        let (cInG, cOutG, kH, kW) = (g.inChannelsPerGroup, g.outChannelsPerGroup, g.kernelHeight, g.kernelWidth)
        let fullWidth = pack.blockVectors * pack.lanes
        // Chunks also keep the scratch of a full block within `scratchBytes`.
        let walk = ConvTransposeBandItem(item, g, itemsPerImage: itemsPerImage, itemRows: ConvTranspose2DDirect.itemRows,
                                         chunkUnit: ConvTranspose2DDirect.chunkUnit, bandBytes: ConvTranspose2DDirect.bandBytes,
                                         maxPixels: { rows in ConvTranspose2DDirect.scratchBytes / (MemoryLayout<Float>.size * rows * fullWidth) })
        let (n, grp, oh0, rows, bandRows, bandColumns, chunkPixels) =
            (walk.n, walk.group, walk.firstRow, walk.rows, walk.bandRows, walk.bandColumns, walk.chunkPixels)
        // scratch (rows, chunkPixels, width): a block's partial sums, then its sums
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * chunkPixels * fullWidth)
        defer { scratch.deallocate() }

        walk.forEachChunk(g, input: x, layouts.input) { band, chunk, pixels in
            for block in pack.blocks {
                let width = block.vectors * pack.lanes
                let kc = ConvTranspose2DDirect.panelChannels(channels: cInG, kW: kW, width: width)
                var args = ConvTransposeDirectArgs(
                    src: band, channelStride: bandRows * bandColumns, channels: 0, columnStep: 1, tapsW: kW,
                    weights: packed, bias: bias + grp * pack.groupLanes + block.laneOffset,
                    acc: scratch, pixels: pixels, first: true)
                let blockWeights = packed + grp * pack.groupStride + block.packedOffset
                for a in 0..<kH {
                    for ci0 in stride(from: 0, to: cInG, by: kc) {
                        args.channels = min(kc, cInG - ci0)
                        args.first = a == 0 && ci0 == 0
                        args.weights = blockWeights + (a * cInG + ci0) * kW * width
                        for row in 0..<rows {
                            args.src = band + (ci0 * bandRows + row + a) * bandColumns
                            args.acc = scratch + row * chunkPixels * width
                            Self.runPanel(args, vectors: block.vectors, lanes: pack.lanes)
                        }
                    }
                }
                // scratch (rows, chunkPixels, width) → activation → output channels co ..< co + valid, NCHW.
                let valid = min(width, cOutG - block.start)
                let blockSlopes = slopes + grp * pack.groupLanes + block.laneOffset
                for row in 0..<rows {
                    let from = scratch + row * chunkPixels * width
                    let to = y + layouts.output.offset(n, grp * cOutG + block.start, oh0 + row) + chunk
                    for c in 0..<valid {
                        Self.storeActivated(from + c, step: width, to: to + c * layouts.output.channelStride, count: pixels,
                                            activation, slope: blockSlopes[c])
                    }
                }
            }
        }
    }

    /// `count` sums `from[p·step]` through the activation to `to[p]`. Scalar, and the same
    /// operations as the other kernels' SIMD epilogue lane by lane (x < 0 ? 0 or x·slope : x), so the
    /// same bits. (In the tiles, the generic SIMD `replacing(with:where:)` kept the compiler from
    /// holding the accumulators in registers: a store per FMA, 2026-12-07, Zen 4.)
    @inline(__always)
    static func storeActivated(_ from: UnsafePointer<Float>, step: Int, to: UnsafeMutablePointer<Float>, count: Int,
                               _ activation: ConvTransposeActivationMode, slope: Float) {
        switch activation {
        case .identity:
            for p in 0..<count { to[p] = from[p &* step] }
        case .relu:
            for p in 0..<count { let x = from[p &* step]; to[p] = x < 0 ? 0 : x }
        case .slopes:
            for p in 0..<count { let x = from[p &* step]; to[p] = x < 0 ? x * slope : x }
        }
    }

    /// One panel over one row segment, on the tile shape of the block's width.
    @inline(__always)
    static func runPanel(_ args: ConvTransposeDirectArgs, vectors: Int, lanes: Int) {
        if lanes == 16 {
            switch vectors {
            case 4: ConvTransposeDirectKernel<SIMD16<Float>, 4, 6>.run(args)
            case 3: ConvTransposeDirectKernel<SIMD16<Float>, 3, 8>.run(args)
            case 2: ConvTransposeDirectKernel<SIMD16<Float>, 2, 8>.run(args)
            default: ConvTransposeDirectKernel<SIMD16<Float>, 1, 8>.run(args)
            }
        } else {
            switch vectors {
            case 2: ConvTransposeDirectKernel<SIMD8<Float>, 2, 6>.run(args)
            default: ConvTransposeDirectKernel<SIMD8<Float>, 1, 12>.run(args)
            }
        }
    }
}

/// One call of the direct kernel: one panel of the reduction over one output row segment of one
/// channel block.
struct ConvTransposeDirectArgs {
    var src: UnsafePointer<Float>          // band at the panel's first channel, row tap a, column tap 0 of pixel 0
    var channelStride: Int
    var channels: Int                      // input channels of the panel
    var columnStep: Int                    // band elements between column taps b and b + 1
    var tapsW: Int
    var weights: UnsafePointer<Float>      // (channels, tapsW, CV·lanes): the panel
    var bias: UnsafePointer<Float>         // (CV·lanes)
    var acc: UnsafeMutablePointer<Float>   // (pixels rounded up to P, CV·lanes): the segment's partial sums
    var pixels: Int                        // pixels of the segment: tiles of P, the last one partial
    var first: Bool                        // the panel starts from the bias, else from `acc`
}

/// The register tile: CV vectors `V` of output channels × P output pixels, over one panel.
enum ConvTransposeDirectKernel<V: SIMD, let CV: Int, let P: Int> where V.Scalar == Float {
    @inline(never)
    static func run(_ k: ConvTransposeDirectArgs) {
        for start in stride(from: 0, to: k.pixels, by: P) {
            tile(k, start: start)
        }
    }

    /// Pixels start ..< start + P: partial sums (or the bias) in, the panel's products added, partial
    /// sums out, at acc + start·CV·lanes as (P, CV·lanes).
    @inline(__always)
    static func tile(_ k: ConvTransposeDirectArgs, start: Int) {
        let lanes = V.scalarCount
        let width = CV &* lanes
        let accp = k.acc + start &* width
        var acc = InlineArray<CV, InlineArray<P, V>>(repeating: .init(repeating: V()))
        if k.first {
            for v in 0..<CV {
                let b = UnsafeRawPointer(k.bias + v &* lanes).loadUnaligned(as: V.self)
                for p in 0..<P { acc[v][p] = b }
            }
        } else {
            for p in 0..<P {
                let pixel = UnsafeRawPointer(accp + p &* width)
                for v in 0..<CV {
                    let offset: Int = v &* lanes &* MemoryLayout<Float>.stride
                    acc[v][p] = pixel.loadUnaligned(fromByteOffset: offset, as: V.self)
                }
            }
        }
        // Index arithmetic wraps (&+, &*): the driver keeps every index inside its buffers.
        var wp = k.weights
        var xr = k.src + start
        for _ in 0..<k.channels {
            var xp = xr
            for _ in 0..<k.tapsW {
                var w = InlineArray<CV, V>(repeating: V())
                for v in 0..<CV { w[v] = UnsafeRawPointer(wp + v &* lanes).loadUnaligned(as: V.self) }
                for p in 0..<P {
                    let x = V(repeating: xp[p])
                    for v in 0..<CV { acc[v][p].addProduct(w[v], x) }
                }
                wp += width
                xp += k.columnStep
            }
            xr += k.channelStride
        }
        for p in 0..<P {
            for v in 0..<CV { store(acc[v][p], accp, pixel: p, vector: v) }
        }
    }

    /// Vector `vector` of pixel `pixel` of a tile at `accp` (P, CV·lanes).
    @inline(__always)
    static func store(_ x: V, _ accp: UnsafeMutablePointer<Float>, pixel: Int, vector: Int) {
        let offset: Int = (pixel &* CV &+ vector) &* V.scalarCount
        UnsafeMutableRawPointer(accp + offset).storeBytes(of: x, as: V.self)
    }
}
