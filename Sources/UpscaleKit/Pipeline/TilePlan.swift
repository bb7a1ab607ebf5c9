// Tile geometry of a conv_transpose2d stack: pure integer code, no tensors.
//
// Per layer and axis, the op's geometry (AxisGeometry, Ops/ConvTranspose2D.swift): its output size,
// and the inputs whose taps reach a range of outputs.
//
// A tile plan splits the stack's final output into tiles (the images of tileSize × tileSize input
// blocks) and, walking the layers backwards, finds for every tile the region of each layer's input
// it needs: the region the next layer needs, grown by this layer's reach, clipped to the layer's
// true extent [0, size). Clipping is what makes tiles seamless: a tile sees exactly the values the
// whole-image run sees at those positions, never a value from outside the image, and zeros only
// where the whole-image run has them too (at the true border, where the kernel drops the taps).
//
// Input padding P (waifu2x's border replication): the stack reads the image extended by P pixels on
// every side, copies of the nearest border pixel, and maps that length n + 2P to scale·n. The plan
// then works in the padded image's coordinates (`sizes[0]` = n + 2P, `regions[0]` inside it) while
// blocks and owned outputs stay in the image's (block [a, b) owns outputs [scale·a, scale·b)); the
// padded coordinate i shows image pixel clamp(i − P, 0, n − 1) (`imageRange`).

/// A half-open rectangle `[y0, y1) × [x0, x1)` in one layer's coordinates.
public struct TileRect: Equatable, Sendable {
    public var rows: Range<Int>
    public var cols: Range<Int>
    public init(rows: Range<Int>, cols: Range<Int>) { self.rows = rows; self.cols = cols }
    public var height: Int { rows.count }
    public var width: Int { cols.count }
    public var isEmpty: Bool { rows.isEmpty || cols.isEmpty }
}

/// One tile: `regions[0]` is the part of the image it reads, `regions[l]` the part of layer l's
/// input it computes, `regions.last` (= `output`) the part of the final output it owns.
public struct Tile: Equatable, Sendable {
    public var regions: [TileRect]
    public var output: TileRect { regions[regions.count - 1] }
    public var input: TileRect { regions[0] }
}

/// The tiles of one run: output tiles partition the output; each carries its per-layer regions.
/// Tiles are the product of a row plan and a column plan, made on demand (`tile(_:)`), so the plan
/// itself is small for any image and tile size.
public struct TilePlan: Equatable, Sendable {
    /// `sizes[l]` = (height, width) of layer l's input; `sizes.last` = the output.
    public let sizes: [(Int, Int)]
    /// Per tile row: the per-layer row ranges (index 0: input, last: output). Likewise columns.
    public let rowPlans: [[Range<Int>]]
    public let colPlans: [[Range<Int>]]
    /// Pixels of border replication on each side of the image (0: none); `sizes[0]` includes them.
    public let inputPadding: Int

    public static func == (a: TilePlan, b: TilePlan) -> Bool {
        a.inputPadding == b.inputPadding && a.rowPlans == b.rowPlans && a.colPlans == b.colPlans && a.sizes.map { [$0.0, $0.1] } == b.sizes.map { [$0.0, $0.1] }
    }

    /// - Parameters:
    ///   - rows, cols: per-layer geometry of each axis (same count, at least one layer).
    ///   - tileSize: input pixels per tile side (≥ 1); the output tile is the image of that block.
    ///   - inputPadding: pixels of border replication the stack reads on each side (≥ 0).
    /// - Precondition: every layer's output is at least 1 long (the model validates this) and the
    ///   stack maps n + 2·inputPadding to scale·n (output tiles are then exactly `scale·tileSize` wide).
    public init(height: Int, width: Int, tileSize: Int, rows: [AxisGeometry], cols: [AxisGeometry],
                inputPadding: Int = 0) {
        precondition(height > 0 && width > 0 && tileSize > 0 && rows.count == cols.count && !rows.isEmpty)
        precondition(inputPadding >= 0, "negative input padding")
        self.inputPadding = inputPadding
        let sizes = Array(zip(AxisGeometry.lengths(height + 2 * inputPadding, through: rows),
                              AxisGeometry.lengths(width + 2 * inputPadding, through: cols)))
        precondition(sizes.allSatisfy { $0.0 > 0 && $0.1 > 0 }, "a layer's output is empty")
        self.sizes = sizes
        rowPlans = TilePlan.axisPlan(length: height, tileSize: tileSize, layers: rows, inputPadding: inputPadding)
        colPlans = TilePlan.axisPlan(length: width, tileSize: tileSize, layers: cols, inputPadding: inputPadding)
    }

    /// Number of tiles (row-major: tile i is row i / colPlans.count, column i % colPlans.count).
    public var count: Int { rowPlans.count * colPlans.count }

    /// Tile i, row-major.
    public func tile(_ i: Int) -> Tile {
        let (r, c) = (rowPlans[i / colPlans.count], colPlans[i % colPlans.count])
        return Tile(regions: zip(r, c).map { TileRect(rows: $0, cols: $1) })
    }

    /// All tiles, row-major (for inspection; the runner makes them one at a time).
    public var tiles: [Tile] { (0..<count).map(tile) }

    /// For each tile along one axis, the per-layer ranges (index 0: input, last: output).
    static func axisPlan(length: Int, tileSize: Int, layers: [AxisGeometry], inputPadding: Int = 0) -> [[Range<Int>]] {
        let sizes = AxisGeometry.lengths(length + 2 * inputPadding, through: layers)
        let scale = layers.reduce(1) { $0 * $1.stride }
        var plans: [[Range<Int>]] = []
        var start = 0
        while start < length {
            let end = min(length, start + tileSize)
            plans.append(blockRanges(start..<end, sizes: sizes, layers: layers, scale: scale, inputPadding: inputPadding))
            start = end
        }
        return plans
    }

    /// The per-layer ranges (index 0: input, last: output) of the input block `block` along one
    /// axis whose per-layer lengths are `sizes` (`sizes[0]` the padded input, `sizes.last` the output).
    /// `block` is in image coordinates, the ranges are in each layer's (index 0: the padded input's).
    /// Blocks of any size give the same values at the same positions: a band of rows of the
    /// streaming path is such a block.
    static func blockRanges(_ block: Range<Int>, sizes: [Int], layers: [AxisGeometry], scale: Int,
                            inputPadding: Int = 0) -> [Range<Int>] {
        // The output this block owns: the image of input block [start, end) (the stack is n + 2P ↦ scale·n).
        let length = sizes[0] - 2 * inputPadding
        let owned = (block.lowerBound * scale)..<(block.upperBound == length ? sizes[layers.count] : block.upperBound * scale)
        var ranges = [owned]
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let need = layers[l].inputRange(forOutput: ranges[0])
            ranges.insert(clip(need, to: sizes[l]), at: 0)
        }
        return ranges
    }

    /// Input pixels of context beyond its own block that one input pixel's output block needs,
    /// on the worse side and axis (the block [t, t+1) of an unbounded image maps to [scale·t, scale·t + scale),
    /// and image pixel t is padded pixel t + inputPadding).
    public static func halo(rows: [AxisGeometry], cols: [AxisGeometry], inputPadding: Int = 0) -> Int {
        func axisHalo(_ layers: [AxisGeometry]) -> Int {
            let scale = layers.reduce(1) { $0 * $1.stride }
            // Far from the border, the backward map of input pixel t's block repeats when t moves
            // by `period`: the blocks of aligned layers (ConvTranspose2D.swift, AxisGeometry) line up
            // again when t·(strides up to the layer) moves by a multiple of the alignment. So the
            // pixels t0 ..< t0 + period tell all.
            var period = 1, strides = 1
            for g in layers {
                strides *= g.stride
                period = lcm(period, g.alignment / gcd(g.alignment, strides))
            }
            let t0 = 1 << 20
            var most = 0
            for t in t0..<(t0 + period) {
                var range = (t * scale)..<(t * scale + scale)
                for g in layers.reversed() {
                    let need = g.inputRange(forOutput: range)
                    if need.isEmpty { return 0 }
                    range = need
                }
                let own = t + inputPadding
                most = max(most, own - range.lowerBound, range.upperBound - (own + 1))
            }
            return most
        }
        return max(axisHalo(rows), axisHalo(cols))
    }

    /// The image pixels that padded range `r` shows (clamped to the image [0, length); padded
    /// coordinate i shows clamp(i − inputPadding)). Empty when `r` is.
    public static func imageRange(_ r: Range<Int>, inputPadding: Int, length: Int) -> Range<Int> {
        guard !r.isEmpty else { return 0..<0 }
        let lo = min(max(r.lowerBound - inputPadding, 0), length - 1)
        let hi = min(max(r.upperBound - inputPadding, lo + 1), length)
        return lo..<hi
    }

    static func clip(_ r: Range<Int>, to length: Int) -> Range<Int> {
        let lo = min(max(r.lowerBound, 0), length)
        let hi = min(max(r.upperBound, lo), length)
        return lo..<hi
    }
}

/// ⌊a / b⌋ for b > 0.
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// ⌈a / b⌉ for b > 0.
@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int {
    -floorDiv(-a, b)
}
