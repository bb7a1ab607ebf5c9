// Band geometry of the streaming path: pure integer code (plus the bicubic taps), no pixels.
//
// The image's H input rows are cut into bands of `bandRows` rows (the last one shorter), or with
// `edgeRows` e: a first and a last band of e rows and the rows between them in bands of at most
// `bandRows`, evened out. Short edge bands shorten the run's start and end, where one core would
// wait: the network starts once the first band's rows are decoded, and the process ends once the
// last band is encoded. Band b owns its input block [start, end) and the output rows that block's
// stack tiles own (TilePlan.blockRanges: [s·start, s·end), the last band up to the output's end).
// To compute them it reads
//   stack    the block's per-layer row ranges, clipped to the true image (its halo rows)
//   bicubic  every input row a nonzero tap of those output rows names (mirrored at the true border)
//   nearest  the block's own rows (the nearest residual)
//   fill     for an image with alpha, the stack's rows widened by the fill radius (the network
//            reads transparent pixels filled from that box around them: Resampling/Alpha.swift)
// and `reads` is the smallest range holding them (with input padding the stack's rows are in the
// padded image's coordinates; `reads` holds the image rows they show). All grow with b, so a window of input rows that
// only moves down the image serves every band: rows below the next band's `reads` are dropped.

/// The bands of one streamed image.
public struct BandPlan: Sendable {
    /// One band: the input rows it owns, the output rows it writes, and what it reads.
    public struct Band: Equatable, Sendable {
        public var input: Range<Int>
        public var output: Range<Int>
        /// Per layer of the stack, the row range it computes (index 0: the rows of the padded image it reads).
        public var stackRows: [Range<Int>]
        /// Every input row the band needs (stack halo and bicubic taps).
        public var reads: Range<Int>
    }

    public let height: Int
    /// The most input rows of any band.
    public let bandRows: Int
    /// The first input row of each band, then `height`.
    let starts: [Int]
    public let scale: Int
    public let inputPadding: Int
    /// Rows around the stack's that its input is computed from (0: none; `Alpha.fillRadius` with alpha).
    public let fillRadius: Int
    let rowSizes: [Int]            // per layer of the stack, the row count of its input; last: the output
    let layers: [AxisGeometry]
    let taps: Resize.BicubicTaps

    /// - Parameters: `height` image rows, `bandRows` ≥ 1 rows per band, `edgeRows` the rows of the
    ///   first and last band (0, or not less than `bandRows`, or an image of fewer than
    ///   `2 · bandRows` rows: all bands of `bandRows`), the stack's row geometry, the bicubic taps
    ///   of the image (`Resize.BicubicTaps(height:width:factor:)`), the model's input padding and
    ///   the fill radius (0 for an image without alpha).
    public init(height: Int, bandRows: Int, edgeRows: Int = 0, rows: [AxisGeometry], taps: Resize.BicubicTaps,
                inputPadding: Int = 0, fillRadius: Int = 0) {
        precondition(height > 0 && bandRows > 0 && !rows.isEmpty, "a band plan needs rows, a band size and layers")
        self.height = height
        self.bandRows = bandRows
        if edgeRows > 0 && edgeRows < bandRows && height >= 2 * bandRows {
            // e, then the middle's rows in k bands of ⌊·⌋ or ⌈·⌉ rows (each ≤ bandRows), then e.
            let middle = height - 2 * edgeRows
            let k = (middle + bandRows - 1) / bandRows
            starts = [0] + (0...k).map { edgeRows + middle * $0 / k } + [height]
        } else {
            starts = Array(stride(from: 0, to: height, by: bandRows)) + [height]
        }
        self.layers = rows
        self.scale = rows.reduce(1) { $0 * $1.stride }
        self.inputPadding = inputPadding
        self.fillRadius = max(0, fillRadius)
        self.rowSizes = AxisGeometry.lengths(height + 2 * inputPadding, through: rows)
        self.taps = taps
    }

    /// Number of bands.
    public var count: Int { starts.count - 1 }

    /// Output rows of the whole image.
    public var outputHeight: Int { rowSizes[rowSizes.count - 1] }

    /// Band b, top to bottom.
    public func band(_ b: Int) -> Band {
        precondition(b >= 0 && b < count, "band \(b) of \(count)")
        let input = starts[b]..<starts[b + 1]
        let stackRows = TilePlan.blockRanges(input, sizes: rowSizes, layers: layers, scale: scale, inputPadding: inputPadding)
        let output = stackRows[stackRows.count - 1]
        let stackImage = TilePlan.imageRange(stackRows[0], inputPadding: inputPadding, length: height)
        var reads = stackImage.isEmpty ? stackImage
            : max(0, stackImage.lowerBound - fillRadius)..<min(height, stackImage.upperBound + fillRadius)
        for more in [taps.inputRows(output), input] where !more.isEmpty {
            reads = reads.isEmpty ? more
                : min(reads.lowerBound, more.lowerBound)..<max(reads.upperBound, more.upperBound)
        }
        return Band(input: input, output: output, stackRows: stackRows, reads: reads)
    }

    /// The default band height: about `pixelBudget` input pixels per band, so that a band's float
    /// planes stay a few tens of MB for any width, but never more than `tileSize` rows (more bands
    /// let the writer overlap the compute) and never fewer than 8; then evened out over the image
    /// (1080 rows in bands of at most 256: 5 bands of 216, not 4 of 256 and one of 56, whose
    /// halo rows would cost as much as its own).
    public static func defaultBandRows(width: Int, height: Int, tileSize: Int, pixelBudget: Int = 1 << 20) -> Int {
        let most = max(8, min(max(1, tileSize), pixelBudget / max(1, width)))
        let bands = (height + most - 1) / most
        return max(1, (height + bands - 1) / bands)
    }

    /// The default edge bands: a quarter of `bandRows` (at least 8 rows), so that the first band's
    /// decode before the network and the last band's encode after it take a quarter of a band's time.
    public static func defaultEdgeRows(bandRows: Int) -> Int { max(8, bandRows / 4) }
}
