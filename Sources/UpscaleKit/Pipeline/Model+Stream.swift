// The upscale loop: image rows flow from a band source through the model to a band writer, so
// peak memory depends on the image width and the band height, not on the image height. Every
// upscale runs through it: a file, bytes from stdin, an image already in memory
// (`upscale(color:alpha:options:)`, via TensorRows), into a file, stdout's spool or a tensor.
//
//   for each band b of the BandPlan (top to bottom):
//     read input rows until the window holds band.reads; convert them to model space (modelInput)
//     stack     the band's tiles (its row ranges × the tile plan's column tiles), each reading the
//               window through runTile; the tiles partition the band's output rows
//     colour    row by row (colorRows): the stack's row plus the residual row (bicubic or nearest
//               of the window), mapped to the image's colours (chroma rows bicubic from the
//               window), clamped; alpha rows bicubic from the window, clamped → an output band,
//               queued for the writer thread. With alpha the residual and chroma are of the
//               premultiplied colour, the stack reads the filled straight colour and its rows are
//               scaled by alpha, and the colour is divided by alpha at the end (Resampling/Alpha.swift)
//     drop the window rows above band b + 1's reads
//
// Test-time augmentation needs every row: the loop first reads the whole image into the window and
// averages the 8 flipped whole-image stacks (stackAveragedOverFlips); each band then takes its
// rows of that average instead of running its tiles. Everything else is the same loop.
//
// Every stage gives, at each output position, bits that do not depend on the band: the stack
// through the same tile geometry and kernels (TilePlan.blockRanges, runTile), the bicubic with the
// same taps in the same order (Resize.heightPassRow, widthPassRow), the colour maps per pixel. So
// the output is bit-identical for any band height, tile size and thread count.
//
// Threads: the tiles of a band run on `parallelFor`, each worker owning its tiles' output columns;
// the colour stage's workers each own whole output rows; encoding runs on one writer thread
// (BandWriterThread) that owns the writer, or with one thread on the loop's own thread; the last
// band, after which nothing else computes, is encoded on all of the run's threads where the
// encoder can split it (a PNG's deflate blocks).
// Memory: the window (≈ band rows + halo + one read), one band's output planes being computed, and
// at most two bands in the writer (one queued, one being encoded).

import Foundation

/// How `Model.upscale(from:to:options:)` runs.
public struct StreamOptions {
    /// Tile size, threads, TTA, progress (tiles of all bands) and cancellation.
    public var run = RunOptions()
    /// Input rows per band; nil: the model's default for the image (`Model.defaultBandRows`).
    public var bandRows: Int? = nil
    /// Input rows of the first and the last band (BandPlan); nil: `BandPlan.defaultEdgeRows` with
    /// the default `bandRows`, none (every band of `bandRows`) with a given one.
    public var edgeRows: Int? = nil
    /// Called after each band is queued for writing, with the output rows done and the total.
    public var rowsProgress: ((_ rowsDone: Int, _ rowsTotal: Int) -> Void)? = nil

    public init() {}
}

/// What the upscale loop reads: an image's rows, top to bottom, in bands (a codec's reader, or
/// `TensorRows` over an image in memory).
public protocol BandSource: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// 1 gray or 3 RGB.
    var colorChannels: Int { get }
    var hasAlpha: Bool { get }
    /// The next band of up to `maxRows` rows: color (1, C, rows, W), alpha (1, 1, rows, W);
    /// nil when every row has been read (a file's tail is checked before its last band returns).
    func readBand(maxRows: Int) throws -> ImageBand?
}

extension Model {
    /// The default band height of a run on an H×W image (`BandPlan.defaultBandRows`). When the
    /// graph pipeline computes the network's rows (`streamGraph`), it keeps its own rows from band
    /// to band, so a band is only the output's staging (the network's output rows, the colour
    /// stage's and the writer's): its budget counts output pixels, scale² per input pixel
    /// (RRDBNet ×4 at 1920 px: 32 rows, 16 MB of output floats, instead of 216 rows, 100 MB).
    /// A tiled stack's bands are its tiles' row blocks, budgeted by input pixels.
    public func defaultBandRows(height: Int, width: Int, tileSize: Int, tta: Bool) -> Int {
        let streamed = streamGraph(width: width, tta: tta) != nil
        return BandPlan.defaultBandRows(width: streamed ? width * scale * scale : width, height: height, tileSize: tileSize)
    }

    /// Upscales the image `source` delivers, band by band, into `writer` (opened for
    /// scale·W × scale·H, the source's colour channels and alpha). Does not call `writer.finish()`
    /// or `abort()`: the caller commits or drops the output.
    /// - Throws: the source's or writer's error (the first one), `ModelError` for non-finite
    ///   values, `CancellationError` when `options.run.isCancelled` says so.
    public func upscale(from source: any BandSource, to writer: any ImageRowWriter, options: StreamOptions) throws {
        let (height, width) = (source.height, source.width)
        let tileSize = max(1, options.run.tileSize)
        let bandRows = max(1, options.bandRows ?? defaultBandRows(height: height, width: width, tileSize: tileSize, tta: options.run.tta))
        let taps = Resize.BicubicTaps(height: height, width: width, factor: scale)
        let floatTaps = Resize.FloatBicubicTaps(taps)   // the colour stage's (Float) bicubic
        // An image with alpha: the network reads its straight colour, transparent pixels filled (Alpha.swift).
        let fillRadius = source.hasAlpha ? alphaFillRadius : 0
        let edgeRows = options.edgeRows ?? (options.bandRows == nil ? BandPlan.defaultEdgeRows(bandRows: bandRows) : 0)
        let bands = BandPlan(height: height, bandRows: bandRows, edgeRows: edgeRows, rows: rowGeometry, taps: taps,
                             inputPadding: inputPadding, fillRadius: fillRadius)
        let tiles = TilePlan(height: height, width: width, tileSize: tileSize, rows: rowGeometry, cols: colGeometry,
                             inputPadding: inputPadding)
        let tta = options.run.tta
        let threads = max(1, options.run.threads)
        // -j N: the tile and colour workers and the writer thread share N busy slots (-j 1: no
        // writer thread, so one busy thread).
        let slots = threads > 1 ? BusySlots(capacity: threads) : nil
        let tracker = RunTracker(options: options.run, total: tta ? 8 * tiles.count : bands.count * tiles.colPlans.count,
                                 slots: slots)
        let output = BandWriterThread(writer: writer, synchronous: threads == 1, slots: slots)
        // Rows packed as the writer's samples by the colour stage's workers, when the writer takes
        // them for this image (a PNG; a JPEG without alpha): no float band between the two.
        let packed = writer.packedLayout.flatMap {
            $0.colorChannels == source.colorChannels && (!$0.withAlpha || source.hasAlpha) ? $0 : nil
        }
        let pipeline = streamGraph(width: width, tta: tta).map {
            GraphPipeline(model: $0, height: height, width: width, threads: threads, slots: slots)
        }
        var window = RowWindow()
        /// Appends up to `count` more image rows to the window; false when the source has none left.
        func readRows(_ count: Int) throws -> Bool {
            guard let rows = try source.readBand(maxRows: max(1, count)) else { return false }
            // With alpha, the residual and chroma upscale premultiplied colour (Resampling/Alpha.swift).
            let color = rows.alpha.map { Alpha.premultiplied(rows.color, by: $0) } ?? rows.color
            let input = modelInput(color, threads: threads)
            window.append(stack: input.stack, chroma: input.chroma, alpha: rows.alpha, color: rows.alpha == nil ? nil : rows.color)
            return true
        }
        do {
            // TTA: the whole image, and the average of its 8 flipped stacks (1, Cout, sH, sW).
            var averaged: Tensor? = nil
            if tta {
                while try readRows(bandRows) {}
                let image = networkInput(window, rows: 0..<height, imageHeight: height, fillRadius: fillRadius, threads: threads).image
                averaged = try stackAveragedOverFlips(image, tileSize: tileSize, threads: threads, tracker: tracker)
            }
            // The tile workers' feature maps, sized for the largest tile of any band, kept throughout.
            let scratch = tta ? nil : TileScratchPool(capacities: scratchCapacities(
                rowPlans: (0..<bands.count).map { bands.band($0).stackRows }, colPlans: tiles.colPlans))
            // A band's stack output, kept for the next band's (the bands are the same size but the last).
            let stackStorage = FloatStorage()
            for b in 0..<bands.count {
                let band = bands.band(b)
                window.drop(below: band.reads.lowerBound)
                // Only the rows the band reads: the first band's network starts after its own rows
                // are decoded, not after the next band's first rows too.
                while window.end < band.reads.upperBound {
                    guard try readRows(band.reads.upperBound - window.end) else { preconditionFailure("the source ended at row \(window.end) of \(height)") }
                }
                if tracker.shouldStop() { throw CancellationError() }
                let y: Tensor  // (1, Cout, band output rows, sW)
                if let averaged {
                    y = Model.rows(band.output, of: averaged)
                } else if let pipeline {   // a graph model or a stack's chain: its rows from the graph pipeline (Pipeline/)
                    y = try graphRows(pipeline, band.output, tiles: tiles.colPlans.count, tracker: tracker) { rows in
                        // With alpha, the network input of `rows` is filled from the rows around them.
                        while window.end < min(height, rows.upperBound + fillRadius) {
                            guard try readRows(bandRows) else { preconditionFailure("the source ended at row \(window.end) of \(height)") }
                        }
                        guard window.origin <= max(0, rows.lowerBound - fillRadius) else { preconditionFailure("rows dropped unread") }
                        let (image, origin) = networkInput(window, rows: rows, imageHeight: height, fillRadius: fillRadius,
                                                           threads: threads)
                        return Model.rows((rows.lowerBound - origin)..<(rows.upperBound - origin), of: image)
                    }
                } else if let scratch {
                    y = try stackRows(band, window: window, tiles: tiles, fillRadius: fillRadius, threads: threads,
                                  scratch: scratch, tracker: tracker, storage: stackStorage)
                } else {
                    preconditionFailure("a run without TTA has its scratch")
                }
                try output.put(colorRows(y, outRows: band.output, window: window, imageHeight: height, taps: floatTaps,
                                         colorChannels: source.colorChannels, packed: packed, threads: threads,
                                         slots: slots), last: b == bands.count - 1)
                // y is dropped at the end of this band: its storage is then the next band's alone.
                if averaged == nil && pipeline == nil { stackStorage.keep(y) }
                options.rowsProgress?(band.output.upperBound, bands.outputHeight)
            }
            // A file's reader checks its tail when it returns its last row; make sure it has.
            while try source.readBand(maxRows: bandRows) != nil {}
            try output.close()
        } catch {
            try? output.close(discard: true)
            throw error
        }
    }

    /// The stack's output rows `band.output` (1, Cout, rows, sW): the band's row ranges crossed with
    /// the tile plan's column tiles, each tile reading the window.
    func stackRows(_ band: BandPlan.Band, window: RowWindow, tiles: TilePlan, fillRadius: Int, threads: Int,
                   scratch: TileScratchPool, tracker: RunTracker, storage: FloatStorage? = nil) throws -> Tensor {
        precondition(window.origin <= band.reads.lowerBound && window.end >= band.reads.upperBound,
                     "the window does not hold the band's reads")
        let imageHeight = tiles.sizes[0].0 - 2 * inputPadding
        let imageRows = TilePlan.imageRange(band.stackRows[0], inputPadding: inputPadding, length: imageHeight)
        let (image, origin) = networkInput(window, rows: imageRows, imageHeight: imageHeight, fillRadius: fillRadius,
                                           threads: threads)
        let columns = tiles.colPlans   // the column tiles partition the band's output columns
        return try stackTiles(columns.count, { c in Tile(regions: zip(band.stackRows, columns[c]).map { TileRect(rows: $0, cols: $1) }) },
                            image: image, imageRowOrigin: origin,
                            imageHeight: imageHeight,
                            outputRows: band.output, width: tiles.sizes[tiles.sizes.count - 1].1,
                            threads: threads, scratch: scratch, tracker: tracker, storage: storage)
    }

    /// What the stack reads for the image rows `rows`, and the image row its first row shows: the
    /// window's model-space rows (the whole window), or for an image with alpha the model space of
    /// its straight colour with the transparent pixels filled (`Alpha.filled`), rows `rows` only.
    /// Where those rows are all opaque the two are the same values, and the window's rows are used.
    func networkInput(_ window: RowWindow, rows: Range<Int>, imageHeight: Int, fillRadius: Int,
                      threads: Int) -> (image: Tensor, origin: Int) {
        guard let stack = window.stack else { preconditionFailure("an empty window") }
        guard let color = window.color, let alpha = window.alpha else { return (stack, window.origin) }
        let w = alpha.shape[3]
        let opaque = alpha.data[((rows.lowerBound - window.origin) * w)..<((rows.upperBound - window.origin) * w)]
            .allSatisfy { $0 == 1 }
        if opaque { return (stack, window.origin) }
        let filled = Alpha.filled(color, alpha: alpha, origin: window.origin, rows: rows, imageHeight: imageHeight,
                                  radius: fillRadius)
        return (modelInput(filled, threads: threads).stack, rows.lowerBound)
    }

    // src = (1, C, H, W) / dst = (1, C, rows.count, W): rows `rows` of every channel.
    static func rows(_ rows: Range<Int>, of t: Tensor) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        var out = [Float]()
        out.reserveCapacity(c * rows.count * w)
        for ch in 0..<c { out.append(contentsOf: t.data[((ch * h + rows.lowerBound) * w)..<((ch * h + rows.upperBound) * w)]) }
        return Tensor(shape: [1, c, rows.count, w], data: out)
    }

    /// The colour stage of one band, row by row: for each output row o in `outRows`, each model
    /// channel's stack row plus its residual row (the bicubic or nearest upscale of the window's
    /// stack input), then the map to the image's colours (the table in Model+Upscale.swift; a y
    /// model on RGB takes Cb, Cr rows bicubic from the window), clamped to [0, 1]; alpha rows
    /// bicubic from the window, clamped. Each value is a per-pixel function of rows whose bits do
    /// not depend on the band, so any band gives the whole image's bits. The bicubic rows are made
    /// here; the per-pixel part is one SIMD pass per row (ColourRow), reading the stack's rows in place.
    /// A y model with its bicubic residual written as 8-bit RGB without alpha (the usual case) makes
    /// only the height pass's rows here; ColourRow.packBicubicYToRGB8 does the width pass and the
    /// packing together, chunk by chunk (the same bytes).
    /// - Parameters:
    ///   - y: the stack's output rows `outRows` (1, Cmodel, rows, sW).
    ///   - window: the image rows the band reads (stack input, chroma, alpha), from `window.origin`.
    ///   - packed: the writer's packed layout, or nil for float planes.
    /// - Returns: with `packed`, the rows as its samples (ColourRow.pack: PixelPacking.interleaveRow's
    ///   bytes, the writer's own packing); else colour (1, colorChannels, rows, sW) and alpha
    ///   (1, 1, rows, sW) when the window has it.
    func colorRows(_ y: Tensor, outRows: Range<Int>, window: RowWindow, imageHeight: Int, taps: Resize.FloatBicubicTaps,
                   colorChannels: Int, packed: PackedRowLayout?, threads: Int, slots: BusySlots? = nil) -> OutputRows {
        guard let stack = window.stack else { preconditionFailure("an empty window") }
        let (cm, n, w) = (stack.shape[1], stack.shape[2], stack.shape[3])
        let (rows, outW) = (outRows.count, y.shape[3])
        precondition(y.shape == [1, cm, rows, outW] && outW == scale * w, "band shapes")
        let (origin, factor, residual, channels) = (window.origin, scale, self.residual, self.channels)
        let hasAlpha = window.alpha != nil
        let plane = rows * outW
        let rowBytes = packed?.rowBytes(width: outW) ?? 0
        // Exactly one of the two is filled: float planes, or packed rows.
        var color = Tensor(zeros: packed == nil ? [1, colorChannels, rows, outW] : [1, colorChannels, 0, outW])
        var alphaPlane: Tensor? = hasAlpha && packed == nil ? Tensor(zeros: [1, 1, rows, outW]) : nil
        // (rows, sW, channels) samples; not zero-filled first: each row's pack writes every byte.
        var bytes = [UInt8](unsafeUninitializedCapacity: rows * rowBytes) { $1 = rows * rowBytes }
        // A photo through a y model with its bicubic residual, written as 8-bit RGB (the usual case):
        // the width pass and the packing fused, from the height pass's rows (ColourRow.packBicubicYToRGB8).
        let fused = packed.map { $0.sampleBits == 8 && !$0.withAlpha } == true && !hasAlpha && channels == .y
            && colorChannels == 3 && residual == .bicubic && cm == 1 && taps.uniformPhases
        y.withUnsafeBufferPointer { y in
        stack.withUnsafeBufferPointer { stack in
        taps.withPointers { taps in
        withOptionalPointer(window.chroma) { chroma in
        withOptionalPointer(window.alpha) { alpha in
        color.withUnsafeMutableBufferPointer { colorOut in
        withOptionalMutablePointer(&alphaPlane) { alphaOut in
        bytes.withUnsafeMutableBufferPointer { bytesOut in
            guard let y = y.baseAddress, let stack = stack.baseAddress else { return }
            // Each item owns output row k of every output plane (colour and alpha), or packed row k;
            // it runs in one of the run's busy slots.
            parallelFor(rows, threads: threads) { k in
                func inSlot(_ body: () -> Void) { if let slots { slots.run(body) } else { body() } }
                inSlot {
                let o = outRows.lowerBound + k
                withUnsafeTemporaryAllocation(of: Float.self, capacity: w + (cm + 3) * outW) { scratch in
                    // short (W): a height pass's row; residualRows (Cmodel, sW); extra (3, sW): Cb, Cr, alpha.
                    let short = scratch.baseAddress!, residualRows = short + w, extra = residualRows + cm * outW
                    if fused, let chroma {
                        // (3, W): the height pass's rows of the residual (Y), Cb and Cr.
                        let shortRows = (short, short + w, short + 2 * w)
                        Resize.heightPassRowsFloat3(taps, planes: (stack, chroma, chroma + n * w), rowOrigin: origin,
                                                    width: w, output: o, into: shortRows)
                        ColourRow.packBicubicYToRGB8(stack: y + k * outW, short: (UnsafePointer(shortRows.0), UnsafePointer(shortRows.1), UnsafePointer(shortRows.2)),
                                                     taps: taps, into: bytesOut.baseAddress! + k * rowBytes)
                        return
                    }
                    /// Row o of the bicubic upscale of a window plane (n, W), into `row` (sW).
                    func bicubicRow(_ plane: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
                        Resize.bicubicRowFloat(taps, plane: plane, rowOrigin: origin, width: w, output: o,
                                               short: short, into: row)
                    }
                    // The output row's alpha, clamped (into the alpha plane when there is one).
                    let alphaRow: UnsafeMutablePointer<Float>? = alpha.map { alpha in
                        let alphaRow = alphaOut.map { $0 + k * outW } ?? extra + 2 * outW
                        bicubicRow(alpha, into: alphaRow)
                        for i in 0..<outW { alphaRow[i] = Model.clamp(alphaRow[i]) }
                        return alphaRow
                    }
                    // The residual's row of each model channel: bicubic or nearest of the window's stack input.
                    for m in 0..<cm {
                        let row = residualRows + m * outW
                        switch residual {
                        case .none:
                            break
                        case .bicubic:
                            bicubicRow(stack + m * n * w, into: row)
                        case .nearest:
                            let source = stack + (m * n + o / factor - origin) * w
                            for i in 0..<outW { row[i] = source[i / factor] }
                        }
                    }
                    var chromaRows: (cb: UnsafePointer<Float>, cr: UnsafePointer<Float>)? = nil
                    if channels == .y && colorChannels == 3 {
                        guard let chroma else { preconditionFailure("a y model on RGB has chroma") }
                        bicubicRow(chroma, into: extra)
                        bicubicRow(chroma + n * w, into: extra + outW)
                        chromaRows = (UnsafePointer(extra), UnsafePointer(extra + outW))
                    }
                    // The stack's rows are read where the stack wrote them: no copy before packing.
                    // Channel m's rows (m < Cmodel; a 1-channel model's repeated, never read).
                    func rowsOf(_ first: UnsafePointer<Float>, _ stride: Int) -> (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) {
                        cm == 3 ? (first, first + stride, first + 2 * stride) : (first, first, first)
                    }
                    let row = ColourRow(stack: rowsOf(y + k * outW, rows * outW),
                                        residual: residual == .none ? nil : rowsOf(residualRows, outW),
                                        alpha: alphaRow.map { UnsafePointer($0) }, chroma: chromaRows, channels: channels,
                                        colorChannels: colorChannels, count: outW)
                    if let packed {
                        row.pack(withAlpha: packed.withAlpha, sampleBits: packed.sampleBits,
                                 into: bytesOut.baseAddress! + k * rowBytes)
                    } else {
                        row.write(into: (0..<colorChannels).map { colorOut.baseAddress! + $0 * plane + k * outW })
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
        if let packed { return .packed(bytes, rows: rows, layout: packed) }
        return .floats(ImageBand(color: color, alpha: alphaPlane))
    }

    @inline(__always)
    static func clamp(_ x: Float) -> Float { min(max(x, 0), 1) }
}
