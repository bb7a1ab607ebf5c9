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
// Layout: tiles in SIMD lanes throughout. A work item is one row of tiles (4 output rows) and a
// block of `blockTiles` consecutive tiles of one image. It copies the 6 input rows under it into a
// zero-padded band (`fillPatch`), and per input channel: transforms the rows (Bᵀ, SIMD over
// columns), splits each transformed row into the 4 column phases (column 4t + l → plane l, index
// t: a plain loop the compiler vectorises with shuffles), transforms across columns (B, SIMD over
// tiles: columns 4t + 4 and 4t + 5 are planes 0 and 1 at t + 1) into V (36, Cin, tiles). Then for
// each ξ and block of CB output channels the register tile (TV vectors of tiles × CB channels,
// weights broadcast) runs the reduction into M (36, Cout, tiles). Last, per output channel, the
// output transform (Aᵀ · A, SIMD over tiles), bias, activation, and the 4 column phases
// interleaved back into rows, of which the window's columns are stored.
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

    /// The register tile for `isa`: 2 × 12 SIMD16 accumulators (24 of AVX-512's 32 registers), or
    /// 2 × 6 SIMD8 (12 of AVX2's 16).
    static func registerTile(_ isa: VectorISA) -> (tileVectors: Int, channelBlock: Int) {
        isa == .avx512 ? (2, 12) : (2, 6)
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
    static let blockBytes = 512 * 1024

    /// input (N, Cin, H, W) → output (N, Cout, Hout, Wout) for the geometry `g` of `plan`, where the
    /// output's element (0, 0) is element `outputOrigin` of the layer's whole output map (the tile
    /// grid's anchor). Writes every output element exactly once.
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeWinogradPack, _ g: ConvTranspose2DGeometry,
                    outputOrigin: (Int, Int), input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    threads: Int) {
        precondition(g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1
                     && g.dilationH == 1 && g.dilationW == 1 && g.groups == 1, "the Winograd kernel is for stride-1 3×3")
        guard g.batch > 0, g.outHeight > 0, g.outWidth > 0 else { return }
        if pack.lanes == 16 {
            ConvTransposeWinogradDriver<SIMD16<Float>, 2, 12>.run(plan, pack, g, outputOrigin: outputOrigin,
                                                                  input: x, output: y, threads: threads)
        } else {
            ConvTransposeWinogradDriver<SIMD8<Float>, 2, 6>.run(plan, pack, g, outputOrigin: outputOrigin,
                                                                input: x, output: y, threads: threads)
        }
    }
}

/// The kernel at one vector width `V` and register tile (TV vectors of tiles × CB output channels).
enum ConvTransposeWinogradDriver<V: SIMD, let TV: Int, let CB: Int> where V.Scalar == Float {
    static func run(_ plan: ConvTranspose2DPlan, _ pack: ConvTransposeWinogradPack, _ g: ConvTranspose2DGeometry,
                    outputOrigin: (Int, Int), input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>,
                    threads: Int) {
        precondition(pack.lanes == V.scalarCount && pack.tileVectors == TV && pack.channelBlock == CB, "pack and tile")
        let m = ConvTransposeWinogradPack.outputTile
        // Tiles (absolute indices) touching the window: rows ty0 ... ty1, columns tx0 ... tx1.
        let ty0 = floorDiv(outputOrigin.0, m), ty1 = floorDiv(outputOrigin.0 + g.outHeight - 1, m)
        let tx0 = floorDiv(outputOrigin.1, m), tx1 = floorDiv(outputOrigin.1 + g.outWidth - 1, m)
        let tileRows = ty1 - ty0 + 1, tileColumns = tx1 - tx0 + 1
        let unit = TV * V.scalarCount
        let perTile = ConvTransposeWinogradPack.positions * MemoryLayout<Float>.size * (pack.inChannels + pack.paddedOutChannels)
        let fit = max(1, ConvTranspose2DWinograd.blockBytes / (perTile * unit)) * unit
        let blockTiles = min(fit, (tileColumns + unit - 1) / unit * unit)
        let blocks = (tileColumns + blockTiles - 1) / blockTiles
        pack.transformed.withUnsafeBufferPointer { u in
        pack.bias.withUnsafeBufferPointer { bias in
        pack.slopes.withUnsafeBufferPointer { slopes in
            let context = ConvTransposeWinogradContext(
                g: g, u: u.baseAddress!, bias: bias.baseAddress!, slopes: slopes.baseAddress!,
                activation: plan.activation, paddedOutChannels: pack.paddedOutChannels,
                firstTile: (ty0, tx0), tileRows: tileRows, tileColumns: tileColumns,
                blockTiles: blockTiles, blocks: blocks, outputOrigin: outputOrigin)
            // Each item owns batch n, one row of tiles (4 output rows, clipped to the window) and the
            // columns of its block of tiles (clipped likewise), all channels: distinct items write
            // distinct elements.
            parallelFor(g.batch * tileRows * blocks, threads: threads) { item in
                runItem(context, item, input: x, output: y)
            }
        }
        }
        }
    }

    /// Computes work item `item` (see `run` for what it owns).
    static func runItem(_ k: ConvTransposeWinogradContext, _ item: Int, input x: UnsafePointer<Float>,
                        output y: UnsafeMutablePointer<Float>) {
        let g = k.g
        let lanes = V.scalarCount
        let (cIn, cOut, cOutPadded) = (g.inChannels, g.outChannels, k.paddedOutChannels)
        let (H, W, oH, oW) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let n = item / (k.tileRows * k.blocks)
        let ty = k.firstTile.0 + (item / k.blocks) % k.tileRows
        let txFirst = k.firstTile.1 + (item % k.blocks) * k.blockTiles
        let tiles = min(k.blockTiles, k.firstTile.1 + k.tileColumns - txFirst)
        let unit = TV * lanes
        let T = (tiles + unit - 1) / unit * unit           // tiles rounded up to whole register tiles
        // The tile row's first output row and the block's first output column, relative to the
        // window (negative where the tile starts before it); the patch starts q = 2 − pad before.
        let (r0, c0) = (ty * 4 - k.outputOrigin.0, txFirst * 4 - k.outputOrigin.1)
        let (qH, qW) = (2 - g.padH, 2 - g.padW)
        let bandColumns = 4 * T + lanes                     // ≥ 4T + 2 columns the tiles read, whole vectors
        let planeStride = T + lanes                         // ≥ T + 1: planes 0, 1 are read at t + 1
        // One allocation for the item's buffers.
        let bandCount = cIn * 6 * bandColumns, rowsCount = 6 * bandColumns, planesCount = 6 * 4 * planeStride
        let vCount = 36 * cIn * T, mCount = 36 * cOutPadded * T, stageCount = 16 * T, rowOutCount = 4 * T
        let storage = UnsafeMutablePointer<Float>.allocate(
            capacity: bandCount + rowsCount + planesCount + vCount + mCount + stageCount + rowOutCount)
        defer { storage.deallocate() }
        let band = storage                                  // (Cin, 6, bandColumns): input rows r0 − qH …, columns c0 − qW …
        let rowsT = band + bandCount                        // (6, bandColumns): Bᵀ·d of one channel
        let planes = rowsT + rowsCount                      // (6, 4, planeStride): rowsT[i][4t + l] at [i][l][t]
        let vBuffer = planes + planesCount                  // (36, Cin, T): V
        let mBuffer = vBuffer + vCount                      // (36, Cout padded, T): M
        let stage = mBuffer + mCount                        // (4, 4, T): Y[r][s] of one channel, activated
        let rowOut = stage + stageCount                     // (4T): one output row of the block

        ConvTranspose2DFast.fillPatch(band, from: x + n * cIn * H * W, channels: cIn, height: H, width: W,
                                      firstRow: r0 - qH, rows: 6, firstColumn: c0 - qW, columns: bandColumns)

        // Input transform: V[6i + j][ci][t] = (Bᵀ d B)[i][j] of tile t's patch d.
        for ci in 0..<cIn {
            let src = UnsafePointer(band + ci * 6 * bandColumns)
            for col in stride(from: 0, to: bandColumns, by: lanes) {
                let d = (load(src + col), load(src + bandColumns + col), load(src + 2 * bandColumns + col),
                         load(src + 3 * bandColumns + col), load(src + 4 * bandColumns + col),
                         load(src + 5 * bandColumns + col))
                let t = inputTransform(d)
                store(t.0, rowsT + col); store(t.1, rowsT + bandColumns + col)
                store(t.2, rowsT + 2 * bandColumns + col); store(t.3, rowsT + 3 * bandColumns + col)
                store(t.4, rowsT + 4 * bandColumns + col); store(t.5, rowsT + 5 * bandColumns + col)
            }
            for i in 0..<6 {
                splitPhases(rowsT + i * bandColumns, to: planes + i * 4 * planeStride, planeStride: planeStride, count: T + 1)
            }
            for i in 0..<6 {
                let p = UnsafePointer(planes + i * 4 * planeStride)
                let to = vBuffer + (i * 6 * cIn + ci) * T     // V[6i][ci][0]
                let step = cIn * T                              // V[ξ + 1] − V[ξ]
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
                    v: vBuffer + xi * cIn * T, u: k.u + (xi * channelBlocks + block) * cIn * CB, channels: cIn,
                    m: mBuffer + (xi * cOutPadded + block * CB) * T, tiles: T)
            }
        }

        // Output transform, bias, activation, store of the window's rows and columns.
        let (rowLo, rowHi) = (max(0, r0), min(oH, r0 + 4))
        let (columnLo, columnHi) = (max(0, c0), min(oW, c0 + 4 * tiles))
        guard rowLo < rowHi, columnLo < columnHi else { return }
        for co in 0..<cOut {
            let biasVector = V(repeating: k.bias[co]), slope = V(repeating: k.slopes[co])
            let mc = UnsafePointer(mBuffer + co * T)                     // M[0][co][0]
            let step = cOutPadded * T                                       // M[ξ + 1] − M[ξ]
            for t in stride(from: 0, to: T, by: lanes) {
                // Aᵀ down each column j of M, then A along each row r of the result.
                var columns = InlineArray<6, (V, V, V, V)>(repeating: (V(), V(), V(), V()))
                for j in 0..<6 {
                    let p = mc + j * step + t
                    columns[j] = outputTransform((load(p), load(p + 6 * step), load(p + 12 * step),
                                                  load(p + 18 * step), load(p + 24 * step), load(p + 30 * step)))
                }
                for r in 0..<4 {
                    func row(_ j: Int) -> V {
                        switch r { case 0: columns[j].0; case 1: columns[j].1; case 2: columns[j].2; default: columns[j].3 }
                    }
                    let o = outputTransform((row(0), row(1), row(2), row(3), row(4), row(5)))
                    let to = stage + r * 4 * T + t
                    store(activate(o.0 + biasVector, k.activation, slope), to)
                    store(activate(o.1 + biasVector, k.activation, slope), to + T)
                    store(activate(o.2 + biasVector, k.activation, slope), to + 2 * T)
                    store(activate(o.3 + biasVector, k.activation, slope), to + 3 * T)
                }
            }
            for oh in rowLo..<rowHi {
                mergePhases(stage + (oh - r0) * 4 * T, planeStride: T, to: rowOut, count: T)
                (y + ((n * cOut + co) * oH + oh) * oW + columnLo).update(from: rowOut + (columnLo - c0),
                                                                        count: columnHi - columnLo)
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
    static func activate(_ x: V, _ mode: ConvTransposeActivationMode, _ slope: V) -> V {
        switch mode {
        case .identity: return x
        case .relu: return x.replacing(with: 0, where: x .< 0)
        case .slopes: return x.replacing(with: x * slope, where: x .< 0)
        }
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

/// The inverse of `splitPhases`: `planes[l·planeStride + t]` to `row[4t + l]`.
@inline(never)
func mergePhases(_ planes: UnsafeMutablePointer<Float>, planeStride: Int, to row: UnsafeMutablePointer<Float>, count: Int) {
    let (p0, p1, p2, p3) = (planes, planes + planeStride, planes + 2 * planeStride, planes + 3 * planeStride)
    for t in 0..<count {
        let s = row + 4 &* t
        s[0] = p0[t]; s[1] = p1[t]; s[2] = p2[t]; s[3] = p3[t]
    }
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
    let blockTiles: Int             // tiles per work item (a multiple of TV·lanes)
    let blocks: Int                 // work items per row of tiles
    let outputOrigin: (Int, Int)
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
