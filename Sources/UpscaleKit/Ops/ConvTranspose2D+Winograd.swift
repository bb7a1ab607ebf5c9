// The Winograd conv_transpose2d kernel: F(4×4, 3×3) for stride-1, dilation-1, 3×3 layers of one
// group with many channels (ConvTransposeWinograd.tile says which: waifu2x upconv_7, SRVGGNetCompact,
// RRDBNet and SPAN bodies).
//
// A stride-1 conv_transpose2d with padding p is a correlation with the flipped kernel and padding
// q = 2 − p (see +Direct):
//   out[co, oh, ow] = act( bias[co] + Σ_ci Σ_(a, b) x[ci, oh − q + a, ow − q + b] · g[co, ci, a, b] )
//   g[co, ci, a, b] = W[ci, co, 2 − a, 2 − b],        Hout = H + 2 − 2p (Wout likewise)
// Winograd F(4, 3) computes a 4×4 block of outputs from the 6×6 input patch d under it (rows
// oh0 − q ..< oh0 − q + 6, columns likewise):
//   Y = Aᵀ [ Σ_ci U[co, ci] ⊙ V[ci] ] A,   U = G g Gᵀ (6×6, per co, ci),  V = Bᵀ d B (6×6, per ci)
// on the interpolation points 0, 1, −1, 1/2, −2, ∞ (Barabasz et al., "Error analysis and improving
// the accuracy of Winograd convolution", 2020): on this kernel's sums their float error measured
// half that of Lavin & Gray's 0, ±1, ±2, ∞ (max 4.4 against 9.7 ε·Σ|x·w| at 64 input channels,
// 13.6 against 21.9 at 3; numpy simulation, 2026-12-07). Rows of Bᵀ scaled by 2 (s = 2 2 2 1 2 2)
// for integer coefficients, G's rows divided alike (powers of two: the same rounding):
//   Bᵀ = [2 −3 −4 3 2 0; 0 −2 1 5 2 0; 0 2 −5 1 2 0; 0 −2 −1 2 1 0; 0 1 −2 −1 2 0; 0 2 −3 −4 3 2]
//   G  = [1 0 0; 1/3 1/3 1/3; −1/3 1/3 −1/3; −16/15 −8/15 −4/15; 1/15 −2/15 4/15; 0 0 1] / s
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 1/2 −2 0; 0 1 1 1/4 4 0; 0 1 −1 1/8 −8 1]
// so the 9·Cin·Cout multiply-adds per output pixel of the direct convolution become 36/16 = 2.25
// per pixel and channel pair in 36 independent matrix products M[ξ] = U[ξ] · V[ξ] ([Cout × Cin] ·
// [Cin × tiles], ξ = 6·i + j), plus the transforms, which cost O(Cin + Cout) per tile.
//
// Layout: tiles in SIMD lanes throughout. A row is cut into blocks of `blockTiles` tiles (V and M
// of a block fit L2); a work item is a run of groups of `itemTileRows` rows of tiles of one image
// (or part of their blocks, when rows are few), block after block. A block copies the input rows
// under its tile rows into a zero-padded band (`fillPatch`), and per tile row and input channel:
// transforms the patch rows (Bᵀ, SIMD over columns), splits each transformed row into the 4 column
// phases (column 4t + l → plane l, index t: a plain loop the compiler vectorises with shuffles;
// Swift's SIMD `evenHalf` compiled to scalar moves), transforms across columns (B, SIMD over tiles:
// columns 4t + 4 and 4t + 5 are planes 0 and 1 at t + 1) into V (36, Cin, tiles). Then for each ξ
// and block of CB output channels the register tile (TV vectors of tiles × CB channels, weights
// broadcast) runs the reduction into M (36, Cout, tiles). Last, per output channel, the output
// transform (Aᵀ · A, SIMD over tiles) and bias, then the 4 column phases interleaved back into
// rows through the activation, of which the window's columns are stored.
// Weights: U is transformed once in the plan (in Double, rounded to Float), packed
// (ξ, Cout/CB, Cin, CB); see ConvTransposeWinogradPack.
//
// Determinism: the tile grid is anchored to the layer's whole output map: tiles start at output
// rows and columns that are multiples of 4 in absolute coordinates (`outputOrigin` says where the
// window lies). Each output element is a fixed sequence of float operations on its tile's 6×6 input
// patch (inputs outside the input window are exact zeros, as are those outside the map when the
// window holds all of the map the tile reads): the input transform (fixed expressions), per ξ
// acc = 0 then acc = fma(V, U, acc) for ci ascending, the output transform, + bias, activation.
// Every lane of every vector runs the same operations whatever the vector width (SIMD8 or SIMD16),
// the block, the window, the thread count; so a window run gives the whole-map run's bits exactly
// when its input window covers the in-map inputs of the whole tiles touching its output window.
// The bits differ from the other kernels' (+Fast, +Wide, +Direct), within float rounding: see the
// tests for the bounds.

/// The Winograd kernel's transformed, packed weights.
struct ConvTransposeWinogradPack: Sendable {
    /// Output tile side m and input tile side m + 2.
    static let outputTile = 4, inputTile = 6
    /// Elementwise positions ξ of a tile.
    static let positions = 36

    let lanes: Int                  // 16 (AVX-512) or 8
    let tileVectors: Int            // TV: vectors of tiles per register tile
    let channelBlock: Int           // CB: output channels per register tile
    let inChannels: Int
    let outChannels: Int
    let paddedOutChannels: Int      // Cout rounded up to CB
    let transformed: [Float]        // (36, Cout/CB, Cin, CB): U[ξ][co][ci], zero past Cout
    let bias: [Float]               // (Cout)
    let slopes: [Float]             // (Cout)

    /// The register tile for `isa`: 1 vector of 16 tiles × 16 channels (16 SIMD16 accumulators of
    /// AVX-512's 32 registers), or 1 × 8 SIMD8 (8 of AVX2's 16). One vector of tiles keeps blocks of
    /// tiles small (less padding on short rows); 16 channels divide the networks' 32–256 (a 2 × 12
    /// tile padded 64 channels to 72; 16 × 1 took the 64 → 64 layer from 152% to 156–170% of the
    /// per-core peak, one thread, Zen 4, 2026-12-07, BENCHMARKS.md). The products run at ~94% of the
    /// FMA peak in this tile. The AVX2 tile is not measured on an AVX2 CPU yet.
    static func registerTile(_ isa: VectorISA) -> (tileVectors: Int, channelBlock: Int) {
        isa == .avx512 ? (1, 16) : (1, 8)
    }

    /// G (6×3) of F(4×4, 3×3) with its rows divided by Bᵀ's row scales; see the header.
    static let g: [[Double]] = {
        let rows: [[Double]] = [[1, 0, 0], [1.0 / 3, 1.0 / 3, 1.0 / 3], [-1.0 / 3, 1.0 / 3, -1.0 / 3],
                                [-16.0 / 15, -8.0 / 15, -4.0 / 15], [1.0 / 15, -2.0 / 15, 4.0 / 15], [0, 0, 1]]
        let scales: [Double] = [2, 2, 2, 1, 2, 2]
        return zip(rows, scales).map { row, s in row.map { $0 / s } }
    }()

    // src = weight (Cin, Cout, 3, 3), PyTorch's layout; bias, slopes (Cout)
    // dst = transformed (ξ = 6i + j, co / CB, ci, co % CB): U = G g Gᵀ of the flipped kernel
    //       g[a][b] = W[ci, co, 2 − a, 2 − b], in Double, rounded once to Float; the block's output
    //       channels innermost (what the register tile broadcasts one after another).
    init(weight w: [Float], bias: [Float], slopes: [Float], _ geometry: ConvTranspose2DGeometry, isa: VectorISA) {
        precondition(ConvTransposeWinograd.tile(geometry) == 4, "the layer does not take F(4×4, 3×3)")
        let (cIn, cOut) = (geometry.inChannels, geometry.outChannels)
        lanes = isa.lanes
        (tileVectors, channelBlock) = Self.registerTile(isa)
        inChannels = cIn
        outChannels = cOut
        let cb = channelBlock
        paddedOutChannels = (cOut + cb - 1) / cb * cb
        let blocks = paddedOutChannels / cb
        var packed = [Float](repeating: 0, count: Self.positions * paddedOutChannels * cIn)
        let G = Self.g
        for co in 0..<cOut {
            for ci in 0..<cIn {
                var kernel = [[Double]](repeating: [0, 0, 0], count: 3)   // g[a][b]
                for a in 0..<3 {
                    for b in 0..<3 { kernel[a][b] = Double(w[((ci * cOut + co) * 3 + 2 - a) * 3 + 2 - b]) }
                }
                // gg = G·g (6×3), then U = gg·Gᵀ (6×6)
                var gg = [[Double]](repeating: [0, 0, 0], count: 6)
                for i in 0..<6 {
                    for b in 0..<3 { gg[i][b] = G[i][0] * kernel[0][b] + G[i][1] * kernel[1][b] + G[i][2] * kernel[2][b] }
                }
                for i in 0..<6 {
                    for j in 0..<6 {
                        let u = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2]
                        packed[(((i * 6 + j) * blocks + co / cb) * cIn + ci) * cb + co % cb] = Float(u)
                    }
                }
            }
        }
        transformed = packed
        self.bias = bias
        self.slopes = slopes
    }
}

enum ConvTranspose2DWinograd {
    /// Budget of a work item's V and M (36 · (Cin + Cout) floats per tile): within the 1 MiB L2 of
    /// Zen 4 (Ice Lake 1.25 MiB; Zen 3's 512 KiB holds half), beside the band and the weights of one ξ.
    static let blockBytes = 768 * 1024
    /// Work items a run is cut into at least (per thread), where rows of tiles are few.
    static let itemsPerThread = 4
    /// Rows of tiles per work item: they share one band (4R + 2 input rows), so the input is read
    /// 1.25 times instead of 1.5 (the band's copy from memory was a sixth of the kernel's time with
    /// one row of tiles, Zen 4, 64 → 64 at 136×240).
    static let itemTileRows = 2

    /// input (N, Cin, H, W) → output (N, Cout, Hout, Wout) for the geometry `g` of `plan`, where the
    /// output's element (0, 0) is element `outputOrigin` of the layer's whole output map (the tile
    /// grid's anchor). Writes every output element exactly once.
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeWinogradPack, _ g: ConvTranspose2DGeometry,
                    outputOrigin: (Int, Int), input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    layouts: ConvTransposeLayouts, threads: Int) {
        precondition(g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1
                     && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1, "the Winograd kernel is for stride-1 3×3")
        guard g.batch > 0, g.outHeight > 0, g.outWidth > 0 else { return }
        if pack.lanes == 16 {
            ConvTransposeWinogradDriver<SIMD16<Float>, 1, 16>.run(plan, pack, g, outputOrigin: outputOrigin,
                                                                  input: x, output: y, layouts: layouts, threads: threads)
        } else {
            ConvTransposeWinogradDriver<SIMD8<Float>, 1, 8>.run(plan, pack, g, outputOrigin: outputOrigin,
                                                                input: x, output: y, layouts: layouts, threads: threads)
        }
    }
}

/// The kernel at one vector width `V` and register tile (TV vectors of tiles × CB output channels).
enum ConvTransposeWinogradDriver<V: SIMD, let TV: Int, let CB: Int> where V.Scalar == Float {
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeWinogradPack, _ g: ConvTranspose2DGeometry,
                    outputOrigin: (Int, Int), input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    layouts: ConvTransposeLayouts, threads: Int) {
        precondition(pack.lanes == V.scalarCount && pack.tileVectors == TV && pack.channelBlock == CB, "pack and tile")
        let m = ConvTransposeWinogradPack.outputTile
        // Tiles (absolute indices) touching the window: rows ty0 ... ty1, columns tx0 ... tx1.
        let ty0 = floorDiv(outputOrigin.0, m), ty1 = floorDiv(outputOrigin.0 + g.outHeight - 1, m)
        let tx0 = floorDiv(outputOrigin.1, m), tx1 = floorDiv(outputOrigin.1 + g.outWidth - 1, m)
        let tileRows = ty1 - ty0 + 1, tileColumns = tx1 - tx0 + 1
        let rowGroups = (tileRows + ConvTranspose2DWinograd.itemTileRows - 1) / ConvTranspose2DWinograd.itemTileRows
        // Blocks of tiles: as few as keep V and M within `blockBytes`, of near-equal size, whole
        // register tiles (the last block may be shorter).
        let unit = TV * V.scalarCount
        let perTile = ConvTransposeWinogradPack.positions * MemoryLayout<Float>.size * (pack.inChannels + pack.paddedOutChannels)
        let fit = max(1, ConvTranspose2DWinograd.blockBytes / (perTile * unit)) * unit
        let blocks = (tileColumns + fit - 1) / fit
        let blockTiles = ((tileColumns + blocks - 1) / blocks + unit - 1) / unit * unit
        // Work items: runs of consecutive row groups (`itemsPerThread` per thread), whose blocks run
        // one after another, each prefetching the next one's input; where row groups are fewer
        // than that, parts of their rows.
        let wanted = ConvTranspose2DWinograd.itemsPerThread * max(1, threads)
        let rowParts = min(blocks, max(1, wanted / max(1, g.batch * rowGroups)))
        let blocksPerItem = (blocks + rowParts - 1) / rowParts
        let parts = (blocks + blocksPerItem - 1) / blocksPerItem
        let chunksWanted = min(rowGroups, max(1, (wanted + g.batch * parts - 1) / (g.batch * parts)))
        let groupsPerItem = (rowGroups + chunksWanted - 1) / chunksWanted
        let rowChunks = (rowGroups + groupsPerItem - 1) / groupsPerItem
        pack.transformed.withUnsafeBufferPointer { u in
        pack.bias.withUnsafeBufferPointer { bias in
        pack.slopes.withUnsafeBufferPointer { slopes in
            let context = ConvTransposeWinogradContext(
                g: g, u: u.baseAddress!, bias: bias.baseAddress!, slopes: slopes.baseAddress!,
                activation: plan.activation, paddedOutChannels: pack.paddedOutChannels,
                firstTile: (ty0, tx0), tileRows: tileRows, tileColumns: tileColumns, rowGroups: rowGroups,
                blockTiles: blockTiles, blocks: blocks, blocksPerItem: blocksPerItem, parts: parts,
                groupsPerItem: groupsPerItem, rowChunks: rowChunks, outputOrigin: outputOrigin, layouts: layouts)
            // Each item owns batch n, its row groups' rows of tiles (4 output rows each, clipped to
            // the window) and the columns of its blocks of tiles (clipped likewise), all channels:
            // distinct items write distinct elements.
            parallelFor(g.batch * rowChunks * parts, threads: threads) { item in
                runItem(context, item, input: x, output: y)
            }
        }
        }
        }
    }

    /// Computes work item `item` (see `run` for what it owns): its blocks one after another, in one
    /// set of buffers.
    static func runItem(_ k: ConvTransposeWinogradContext, _ item: Int, input x: UnsafePointer<Float>,
                        output y: UnsafeMutablePointer<Float>) {
        let g = k.g
        let lanes = V.scalarCount
        let (cIn, cOutPadded) = (g.inChannels, k.paddedOutChannels)
        let n = item / (k.rowChunks * k.parts)
        let firstGroup = (item / k.parts) % k.rowChunks * k.groupsPerItem
        let lastGroup = min(k.rowGroups, firstGroup + k.groupsPerItem)
        let R = ConvTranspose2DWinograd.itemTileRows
        let bandRows = 4 * R + 2
        let firstBlock = (item % k.parts) * k.blocksPerItem
        let lastBlock = min(k.blocks, firstBlock + k.blocksPerItem)
        let T = k.blockTiles                                // tiles per block: whole register tiles
        let bandColumns = 4 * T + lanes                     // ≥ 4T + 2 columns the tiles read, whole vectors
        let planeStride = T + lanes                         // ≥ T + 1: planes 0, 1 are read at t + 1
        let bandCount = cIn * bandRows * bandColumns, rowsCount = 6 * bandColumns, planesCount = 6 * 4 * planeStride
        // V[ξ] and M[ξ] one cache line further apart than their size: at power-of-two sizes (64
        // channels × 32 tiles = 8 KiB) the 36 loads or stores of one tile column map to one L1 set.
        let (vStride, mStride) = (cIn * T + 16, cOutPadded * T + 16)
        let vCount = 36 * vStride, mCount = 36 * mStride, stageCount = 16 * T
        let storage = UnsafeMutablePointer<Float>.allocate(
            capacity: bandCount + rowsCount + planesCount + vCount + mCount + stageCount)
        defer { storage.deallocate() }
        let buffers = ConvTransposeWinogradBuffers(
            band: storage,                                  // (Cin, bandRows, bandColumns): the patches of the block
            rowsT: storage + bandCount,                     // (6, bandColumns): Bᵀ·d of one channel
            planes: storage + bandCount + rowsCount,        // (6, 4, planeStride): rowsT[i][4t + l] at [i][l][t]
            v: storage + bandCount + rowsCount + planesCount,                    // (36, vStride ≥ Cin·T): V
            m: storage + bandCount + rowsCount + planesCount + vCount,           // (36, mStride ≥ Cout padded·T): M
            stage: storage + bandCount + rowsCount + planesCount + vCount + mCount,  // (4, 4, T): Y + bias of one channel
            bandRows: bandRows, bandColumns: bandColumns, planeStride: planeStride, vStride: vStride, mStride: mStride)
        // Blocks in order (row group, block); each prefetches the next one's input rows and columns.
        let order = (firstGroup..<lastGroup).flatMap { group in (firstBlock..<lastBlock).map { (group, $0) } }
        let (qH, qW) = (2 - g.padH, 2 - g.padW)
        func firstInput(_ group: Int, _ block: Int) -> (row: Int, column: Int, rows: Int) {
            let rows = min(R, k.tileRows - group * R)
            return ((k.firstTile.0 + group * R) * 4 - k.outputOrigin.0 - qH,
                    (k.firstTile.1 + block * T) * 4 - k.outputOrigin.1 - qW, 4 * rows + 2)
        }
        for (index, (group, block)) in order.enumerated() {
            if index + 1 < order.count {
                let next = firstInput(order[index + 1].0, order[index + 1].1)
                prefetchInput(x, k.layouts.input, n: n, channels: cIn, height: g.inHeight, width: g.inWidth,
                              firstRow: next.row, rows: next.rows, firstColumn: next.column, columns: 4 * T + 2)
            }
            let txFirst = k.firstTile.1 + block * T
            let tiles = min(T, k.firstTile.1 + k.tileColumns - txFirst)
            let rows = min(R, k.tileRows - group * R)
            runBlock(k, buffers, n: n, ty: k.firstTile.0 + group * R, rows: rows, txFirst: txFirst, tiles: tiles,
                     input: x, output: y)
        }
    }

    /// Asks for the in-image part of a block's input rows and columns of every channel to be
    /// brought into L2 while the current block computes: the band holds short pieces of many rows,
    /// which the hardware prefetchers do not follow (the copy was a sixth of the kernel's time).
    /// Measured on Zen 4, 2 threads, paired with +Wide: the lone 64 → 64 layer at 540×960 (input
    /// from DRAM) went from 1.82× to 2.13× +Wide's speed; at 136×240 (input in L3) no change.
    static func prefetchInput(_ x: UnsafePointer<Float>, _ layout: ConvTransposeMapLayout, n: Int, channels: Int,
                              height: Int, width: Int,
                              firstRow: Int, rows: Int, firstColumn: Int, columns: Int) {
        let (r0, r1) = (max(0, firstRow), min(height, firstRow + rows))
        let (c0, c1) = (max(0, firstColumn), min(width, firstColumn + columns))
        guard r0 < r1, c0 < c1 else { return }
        for ci in 0..<channels {
            for h in r0..<r1 {
                let start = UnsafeRawPointer(x + layout.offset(n, ci, h) + c0)
                for byte in stride(from: 0, to: (c1 - c0) * MemoryLayout<Float>.size, by: 64) {
                    llvmPrefetch(start + byte, 0, 2, 1)
                }
            }
        }
    }

    /// One block: tiles txFirst ..< txFirst + tiles of tile rows ty ..< ty + rows of image n (the
    /// tiles past `tiles`, up to a whole register tile, are computed on the band's zeros and not stored).
    @inline(__always)
    static func runBlock(_ k: ConvTransposeWinogradContext, _ b: ConvTransposeWinogradBuffers, n: Int, ty: Int,
                         rows: Int, txFirst: Int, tiles: Int,
                         input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        let g = k.g
        let (cIn, H, W) = (g.inChannels, g.inHeight, g.inWidth)
        let bandColumns = b.bandColumns
        // The first tile row's first output row and the block's first output column, relative to
        // the window (negative where the tile starts before it); a patch starts q = 2 − pad before.
        let (firstRow, c0) = (ty * 4 - k.outputOrigin.0, txFirst * 4 - k.outputOrigin.1)
        let (qH, qW) = (2 - g.padH, 2 - g.padW)
        // The rows the block's tile rows read (a window of one row of tiles leaves the rest unread).
        ConvTranspose2DFast.fillPatch(b.band, from: x, k.layouts.input, n: n, firstChannel: 0, channels: cIn, height: H, width: W,
                                      firstRow: firstRow - qH, rows: b.bandRows, filledRows: 4 * rows + 2,
                                      firstColumn: c0 - qW, columns: bandColumns)
        for tileRow in 0..<rows {
            runTiles(k, b, n: n, r0: firstRow + 4 * tileRow, bandRow: 4 * tileRow, c0: c0, tiles: tiles, output: y)
        }
    }

    /// One row of tiles of a block: the patches at band rows bandRow ..< bandRow + 6; output rows
    /// r0 ..< r0 + 4 and columns c0 ..< c0 + 4·tiles of the window (clipped to it).
    @inline(__always)
    static func runTiles(_ k: ConvTransposeWinogradContext, _ b: ConvTransposeWinogradBuffers, n: Int, r0: Int,
                         bandRow: Int, c0: Int, tiles: Int, output y: UnsafeMutablePointer<Float>) {
        let g = k.g
        let lanes = V.scalarCount
        let (cIn, cOut, cOutPadded) = (g.inChannels, g.outChannels, k.paddedOutChannels)
        let (oH, oW) = (g.outHeight, g.outWidth)
        // This block's tiles rounded up to whole register tiles: V, M and the stage are laid out for
        // T (≤ blockTiles); a row's last block is often shorter (240 tiles: 7 × 32 + 16, not 8 × 32).
        let T = (tiles + TV * lanes - 1) / (TV * lanes) * (TV * lanes)
        let (bandRows, bandColumns, planeStride) = (b.bandRows, b.bandColumns, b.planeStride)

        // Input transform: V[6i + j][ci][t] = (Bᵀ d B)[i][j] of tile t's patch d.
        for ci in 0..<cIn {
            let src = UnsafePointer(b.band + (ci * bandRows + bandRow) * bandColumns)
            let rowsT = b.rowsT
            for col in stride(from: 0, to: 4 * T + lanes, by: lanes) {
                let d = (load(src + col), load(src + bandColumns + col), load(src + 2 * bandColumns + col),
                         load(src + 3 * bandColumns + col), load(src + 4 * bandColumns + col),
                         load(src + 5 * bandColumns + col))
                let t = inputTransform(d)
                store(t.0, rowsT + col); store(t.1, rowsT + bandColumns + col)
                store(t.2, rowsT + 2 * bandColumns + col); store(t.3, rowsT + 3 * bandColumns + col)
                store(t.4, rowsT + 4 * bandColumns + col); store(t.5, rowsT + 5 * bandColumns + col)
            }
            for i in 0..<6 {
                splitPhases(rowsT + i * bandColumns, to: b.planes + i * 4 * planeStride, planeStride: planeStride, count: T + 1)
            }
            for i in 0..<6 {
                let p = UnsafePointer(b.planes + i * 4 * planeStride)
                let to = b.v + i * 6 * b.vStride + ci * T       // V[6i][ci][0]
                let step = b.vStride                            // V[ξ + 1] − V[ξ]
                for t in stride(from: 0, to: T, by: lanes) {
                    let d = (load(p + t), load(p + planeStride + t), load(p + 2 * planeStride + t),
                             load(p + 3 * planeStride + t), load(p + t + 1), load(p + planeStride + t + 1))
                    let v = inputTransform(d)
                    store(v.0, to + t); store(v.1, to + step + t); store(v.2, to + 2 * step + t)
                    store(v.3, to + 3 * step + t); store(v.4, to + 4 * step + t); store(v.5, to + 5 * step + t)
                }
            }
        }

        // The 36 products M[ξ] = U[ξ] · V[ξ], block of CB output channels by block.
        let channelBlocks = cOutPadded / CB
        for xi in 0..<36 {
            for block in 0..<channelBlocks {
                ConvTransposeWinogradTile<V, TV, CB>.run(
                    v: b.v + xi * b.vStride, u: k.u + (xi * channelBlocks + block) * cIn * CB, channels: cIn,
                    m: b.m + xi * b.mStride + block * CB * T, tiles: T)
            }
        }

        // Output transform, bias, activation, store of the window's rows and columns.
        let (rowLo, rowHi) = (max(0, r0), min(oH, r0 + 4))
        let (columnLo, columnHi) = (max(0, c0), min(oW, c0 + 4 * tiles))
        guard rowLo < rowHi, columnLo < columnHi else { return }
        // The output rows are asked for (for writing) a few channels ahead: they lie in the pipeline's
        // rings or the output map, mostly out of cache (upconv_7's 128 → 256: 16 MB per pass), and
        // each store's cache line had to be fetched before it could be written.
        let ahead = 4   // output channels
        func prefetchOutput(_ co: Int) {
            for oh in rowLo..<rowHi {
                let start = UnsafeRawPointer(y + k.layouts.output.offset(n, co, oh) + columnLo)
                for byte in stride(from: 0, to: (columnHi - columnLo) * MemoryLayout<Float>.size, by: 64) {
                    llvmPrefetch(start + byte, 1, 3, 1)
                }
            }
        }
        for co in 0..<min(ahead, cOut) { prefetchOutput(co) }
        for co in 0..<cOut {
            if co + ahead < cOut { prefetchOutput(co + ahead) }
            let biasVector = V(repeating: k.bias[co])
            let mc = UnsafePointer(b.m + co * T)                        // M[0][co][0]
            let step = b.mStride                                        // M[ξ + 1] − M[ξ]
            for t in stride(from: 0, to: T, by: lanes) {
                // Aᵀ down each column j of M, then A along each row r of the result. The six columns
                // are constants, not an array: an InlineArray of them was zeroed through memset
                // (1.5 KiB per vector of tiles and channel, 3% of upconv_7, 2026-12-07, Zen 4).
                func column(_ j: Int) -> (V, V, V, V) {
                    let p = mc + j * step + t
                    return outputTransform((load(p), load(p + 6 * step), load(p + 12 * step),
                                            load(p + 18 * step), load(p + 24 * step), load(p + 30 * step)))
                }
                let (m0, m1, m2, m3, m4, m5) = (column(0), column(1), column(2), column(3), column(4), column(5))
                func storeRow(_ r: Int, _ o: (V, V, V, V)) {
                    let to = b.stage + r * 4 * T + t
                    store(o.0 + biasVector, to)
                    store(o.1 + biasVector, to + T)
                    store(o.2 + biasVector, to + 2 * T)
                    store(o.3 + biasVector, to + 3 * T)
                }
                storeRow(0, outputTransform((m0.0, m1.0, m2.0, m3.0, m4.0, m5.0)))
                storeRow(1, outputTransform((m0.1, m1.1, m2.1, m3.1, m4.1, m5.1)))
                storeRow(2, outputTransform((m0.2, m1.2, m2.2, m3.2, m4.2, m5.2)))
                storeRow(3, outputTransform((m0.3, m1.3, m2.3, m3.3, m4.3, m5.3)))
            }
            for oh in rowLo..<rowHi {
                storePhases(b.stage + (oh - r0) * 4 * T, planeStride: T, columns: (columnLo - c0)..<(columnHi - c0),
                            to: y + k.layouts.output.offset(n, co, oh) + columnLo, k.activation, slope: k.slopes[co])
            }
        }
    }

    /// Bᵀ·d of six values (rows or columns of a patch), lane by lane: the rows of Bᵀ (header), with
    /// a = d3 − d1 and b = d4 − d2 shared; multiplications by powers of two are exact, by 3 and 5 fused.
    @inline(__always)
    static func inputTransform(_ d: (V, V, V, V, V, V)) -> (V, V, V, V, V, V) {
        let two = V(repeating: 2), three = V(repeating: 3), five = V(repeating: 5)
        let a = d.3 - d.1, b = d.4 - d.2
        let r0 = (two * ((d.0 + d.4) - two * d.2)).addingProduct(a, three)      //  2 −3 −4  3  2  0
        let r1 = (two * (d.4 - d.1) + d.2).addingProduct(d.3, five)              //  0 −2  1  5  2  0
        let r2 = (two * (d.1 + d.4) + d.3).addingProduct(d.2, -five)             //  0  2 −5  1  2  0
        let r3 = b + two * a                                                      //  0 −2 −1  2  1  0
        let r4 = two * b - a                                                      //  0  1 −2 −1  2  0
        let r5 = (two * ((d.1 + d.5) - two * d.3)).addingProduct(b, three)      //  0  2 −3 −4  3  2
        return (r0, r1, r2, r3, r4, r5)
    }

    /// Aᵀ·m of six values: the rows of Aᵀ (multiplications by powers of two, exact).
    @inline(__always)
    static func outputTransform(_ m: (V, V, V, V, V, V)) -> (V, V, V, V) {
        let s12 = m.1 + m.2, d12 = m.1 - m.2
        let half = V(repeating: 0.5), quarter = V(repeating: 0.25), eighth = V(repeating: 0.125)
        let two = V(repeating: 2), four = V(repeating: 4), eight = V(repeating: 8)
        return ((m.0 + s12) + (m.3 + m.4),                                         // 1 1  1  1    1  0
                (d12 + half * m.3) - two * m.4,                                    // 0 1 −1  1/2 −2  0
                (s12 + quarter * m.3) + four * m.4,                                // 0 1  1  1/4  4  0
                ((d12 + eighth * m.3) - eight * m.4) + m.5)                        // 0 1 −1  1/8 −8  1
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ x: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self) }
}

/// `row[4t + l]` to `planes[l·planeStride + t]` for t < count, l < 4. A plain loop: the compiler
/// turns it into vector loads and shuffles (Swift's SIMD `evenHalf` compiled to scalar moves).
@inline(never)
func splitPhases(_ row: UnsafePointer<Float>, to planes: UnsafeMutablePointer<Float>, planeStride: Int, count: Int) {
    let (p0, p1, p2, p3) = (planes, planes + planeStride, planes + 2 * planeStride, planes + 3 * planeStride)
    for t in 0..<count {
        let s = row + 4 &* t
        p0[t] = s[0]; p1[t] = s[1]; p2[t] = s[2]; p3[t] = s[3]
    }
}

@inline(never)
func splitPhases(_ row: UnsafeMutablePointer<Float>, to planes: UnsafeMutablePointer<Float>, planeStride: Int, count: Int) {
    splitPhases(UnsafePointer(row), to: planes, planeStride: planeStride, count: count)
}

/// The inverse of `splitPhases` through the activation, for the columns `columns` of the row:
/// `to[i − columns.lowerBound] = act(planes[(i % 4)·planeStride + i / 4])`. The whole tiles in the
/// middle are a plain loop the compiler vectorises (shuffles and blends); the partial ones at the
/// ends go one element at a time. Per element the same operations as +Direct's `storeActivated`.
@inline(never)
func storePhases(_ planes: UnsafeMutablePointer<Float>, planeStride: Int, columns: Range<Int>,
                 to out: UnsafeMutablePointer<Float>, _ activation: ConvTransposeActivationMode, slope: Float) {
    let (a, b) = (columns.lowerBound, columns.upperBound)
    let (tA, tB) = ((a + 3) / 4, max((a + 3) / 4, b / 4))       // whole tiles tA ..< tB
    @inline(__always) func one(_ i: Int) {
        let x = planes[(i & 3) &* planeStride &+ (i >> 2)]
        switch activation {
        case .identity: out[i &- a] = x
        case .relu: out[i &- a] = x < 0 ? 0 : x
        case .slopes: out[i &- a] = x < 0 ? x * slope : x
        }
    }
    for i in a..<min(b, 4 * tA) { one(i) }
    let (p0, p1, p2, p3) = (planes, planes + planeStride, planes + 2 * planeStride, planes + 3 * planeStride)
    let row = out - a                                           // row[4t + l] is column 4t + l
    switch activation {
    case .identity:
        for t in tA..<tB {
            let s = row + 4 &* t
            s[0] = p0[t]; s[1] = p1[t]; s[2] = p2[t]; s[3] = p3[t]
        }
    case .relu:
        for t in tA..<tB {
            let s = row + 4 &* t
            let (x0, x1, x2, x3) = (p0[t], p1[t], p2[t], p3[t])
            s[0] = x0 < 0 ? 0 : x0; s[1] = x1 < 0 ? 0 : x1; s[2] = x2 < 0 ? 0 : x2; s[3] = x3 < 0 ? 0 : x3
        }
    case .slopes:
        for t in tA..<tB {
            let s = row + 4 &* t
            let (x0, x1, x2, x3) = (p0[t], p1[t], p2[t], p3[t])
            s[0] = x0 < 0 ? x0 * slope : x0; s[1] = x1 < 0 ? x1 * slope : x1
            s[2] = x2 < 0 ? x2 * slope : x2; s[3] = x3 < 0 ? x3 * slope : x3
        }
    }
    for i in min(b, max(a, 4 * tB))..<b { one(i) }   // empty when the columns lie inside one tile
}

/// What every work item of one run reads. Unchecked: the pointers outlive the call; workers only
/// read through them (each writes its own output elements, see `ConvTransposeWinogradDriver.run`).
struct ConvTransposeWinogradContext: @unchecked Sendable {
    let g: ConvTranspose2DGeometry
    let u: UnsafePointer<Float>, bias: UnsafePointer<Float>, slopes: UnsafePointer<Float>
    let activation: ConvTransposeActivationMode
    let paddedOutChannels: Int
    let firstTile: (Int, Int)       // absolute tile row and column of the window's first tile
    let tileRows: Int, tileColumns: Int
    let rowGroups: Int              // work items' groups of `itemTileRows` rows of tiles
    let blockTiles: Int             // tiles per block (a multiple of TV·lanes)
    let blocks: Int                 // blocks per row of tiles
    let blocksPerItem: Int          // blocks per work item
    let parts: Int                  // work items per row group
    let groupsPerItem: Int          // row groups per work item
    let rowChunks: Int              // work items per column of row groups
    let outputOrigin: (Int, Int)
    let layouts: ConvTransposeLayouts   // where the input lies and the output goes
}

/// A work item's buffers, reused by its blocks (see `runItem` for the shapes).
struct ConvTransposeWinogradBuffers {
    let band: UnsafeMutablePointer<Float>, rowsT: UnsafeMutablePointer<Float>, planes: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>
    let stage: UnsafeMutablePointer<Float>
    let bandRows: Int, bandColumns: Int, planeStride: Int
    let vStride: Int, mStride: Int  // floats from V[ξ] to V[ξ + 1], M likewise
}

/// The register tile of the products: TV vectors of tiles × CB output channels, over all input
/// channels: per channel it loads TV vectors of V and broadcasts CB weights of U.
enum ConvTransposeWinogradTile<V: SIMD, let TV: Int, let CB: Int> where V.Scalar == Float {
    /// M[co][t] = Σ_ci U[ci][co] · V[ci][t] (acc = 0, then fma for ci ascending) for co < CB, t < tiles.
    /// v: (channels, tiles); u: (channels, CB); m: (CB, tiles). `tiles` is a multiple of TV·lanes.
    @inline(never)
    static func run(v: UnsafePointer<Float>, u: UnsafePointer<Float>, channels: Int,
                    m: UnsafeMutablePointer<Float>, tiles: Int) {
        let lanes = V.scalarCount
        for t0 in stride(from: 0, to: tiles, by: TV &* lanes) {
            var acc = InlineArray<CB, InlineArray<TV, V>>(repeating: .init(repeating: V()))
            // Index arithmetic wraps (&+, &*): the driver keeps every index inside its buffers.
            var vp = v + t0
            var up = u
            for _ in 0..<channels {
                var x = InlineArray<TV, V>(repeating: V())
                for k in 0..<TV { x[k] = UnsafeRawPointer(vp + k &* lanes).loadUnaligned(as: V.self) }
                for c in 0..<CB {
                    let w = V(repeating: up[c])
                    for k in 0..<TV { acc[c][k].addProduct(x[k], w) }
                }
                vp += tiles
                up += CB
            }
            for c in 0..<CB {
                for k in 0..<TV {
                    let offset: Int = c &* tiles &+ t0 &+ k &* lanes
                    UnsafeMutableRawPointer(m + offset).storeBytes(of: acc[c][k], as: V.self)
                }
            }
        }
    }
}
