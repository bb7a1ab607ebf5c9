// Streaming upscale: image rows flow from a band reader through the model to a band writer, so
// peak memory depends on the image width and the band height, not on the image height.
//
//   for each band b of the BandPlan (top to bottom):
//     read input rows until the window holds band.reads; convert them to model space (modelInput)
//     stack     the band's tiles (its row ranges × the tile plan's column tiles), each reading the
//               window through runTile; the tiles partition the band's output rows
//     residual, chroma, alpha   rows band.output of the bicubic upscale, from the window
//     colour    modelOutput (per pixel, clamped) → an output band, queued for the writer thread;
//               a y model with the bicubic residual on RGB (the built-in models) does residual,
//               chroma and colour row by row instead (lumaModelRGB), with the same row passes
//     drop the window rows above band b + 1's reads
//
// Every stage gives, at each output position, the bits of the whole-image `upscale(color:alpha:)`:
// the stack through the same tile geometry and kernels (TilePlan.blockRanges, runTile), the bicubic
// with the same taps in the same order (Resize.bicubicUpscaleRows), the colour maps per pixel.
// So the output is bit-identical for any band height, tile size and thread count.
//
// Threads: the tiles of a band run on `parallelFor`, each worker owning its tiles' output columns;
// encoding runs on one writer thread (BandWriterThread) that owns the writer.
// Memory: the window (≈ band rows + halo + one read), one band's output planes being computed, and
// at most two bands in the writer (one queued, one being encoded).

import Foundation

/// How `Model.upscale(from:to:options:)` runs.
public struct StreamOptions {
    /// Tile size, threads, progress (tiles of all bands) and cancellation. `tta` is not supported
    /// by the streaming path (the flips need the whole image); use `upscale(color:alpha:options:)`.
    public var run = RunOptions()
    /// Input rows per band; nil: `BandPlan.defaultBandRows` for the image width.
    public var bandRows: Int? = nil
    /// Called after each band is queued for writing, with the output rows done and the total.
    public var rowsProgress: ((_ rowsDone: Int, _ rowsTotal: Int) -> Void)? = nil

    public init() {}
}

extension Model {
    /// Upscales the image `reader` delivers, band by band, into `writer` (opened for
    /// scale·W × scale·H, the reader's colour channels and alpha). Does not call `writer.finish()`
    /// or `abort()`: the caller commits or drops the output.
    /// - Throws: the reader's or writer's error (the first one), `ModelError` when `options.run.tta`
    ///   is set, `CancellationError` when `options.run.isCancelled` says so.
    public func upscale(from reader: any ImageRowReader, to writer: any ImageRowWriter, options: StreamOptions) throws {
        let source = metadata["name"] ?? "<model>"
        guard !options.run.tta else {
            throw ModelError("\(source): test-time augmentation needs the whole image; it cannot stream")
        }
        let (height, width) = (reader.height, reader.width)
        let tileSize = max(1, options.run.tileSize)
        let bandRows = max(1, options.bandRows ?? BandPlan.defaultBandRows(width: width, height: height, tileSize: tileSize))
        let taps = Resize.BicubicTaps(height: height, width: width, factor: scale)
        let bands = BandPlan(height: height, bandRows: bandRows, rows: rowGeometry, taps: taps, inputPadding: inputPadding)
        let tiles = TilePlan(height: height, width: width, tileSize: tileSize, rows: rowGeometry, cols: colGeometry,
                             inputPadding: inputPadding)
        let tracker = RunTracker(options: options.run, total: bands.count * tiles.colPlans.count)
        let threads = max(1, options.run.threads)
        let output = BandWriterThread(writer: writer)
        // The tile workers' feature maps, sized for the largest tile of any band, kept throughout.
        let scratch = TileScratchPool(capacities: scratchCapacities(rowPlans: (0..<bands.count).map { bands.band($0).stackRows },
                                                                    colPlans: tiles.colPlans))
        var window = RowWindow()
        do {
            for b in 0..<bands.count {
                let band = bands.band(b)
                window.drop(below: band.reads.lowerBound)
                while window.end < band.reads.upperBound {
                    guard let rows = try reader.readBand(maxRows: bandRows) else {
                        preconditionFailure("the reader ended at row \(window.end) of \(height)")
                    }
                    let input = modelInput(rows.color, threads: threads)
                    window.append(stack: input.stack, chroma: input.chroma, alpha: rows.alpha)
                }
                if tracker.shouldStop() { throw CancellationError() }
                let result = try upscaleBand(band, window: window, tiles: tiles, taps: taps,
                                             colorChannels: reader.colorChannels, threads: threads,
                                             scratch: scratch, tracker: tracker)
                try output.put(result)
                options.rowsProgress?(band.output.upperBound, bands.outputHeight)
            }
            // The reader checks the file's tail when it returns its last row; make sure it has.
            while try reader.readBand(maxRows: bandRows) != nil {}
            try output.close()
        } catch {
            try? output.close(discard: true)
            throw error
        }
    }

    /// One band's output rows (colour and alpha, clamped) from the window of input rows.
    func upscaleBand(_ band: BandPlan.Band, window: RowWindow, tiles: TilePlan, taps: Resize.BicubicTaps,
                     colorChannels: Int, threads: Int, scratch: TileScratchPool,
                     tracker: RunTracker) throws -> ImageBand {
        guard let stackInput = window.stack else { preconditionFailure("an empty window") }
        precondition(window.origin <= band.reads.lowerBound && window.end >= band.reads.upperBound,
                     "the window does not hold the band's reads")
        let height = tiles.sizes[0].0 - 2 * inputPadding
        var y = try runStackBand(band, window: stackInput, windowOrigin: window.origin, tiles: tiles,
                                 threads: threads, scratch: scratch, tracker: tracker)  // (1, Cmodel, band output rows, sW)
        func bicubicRows(_ t: Tensor) -> Tensor {
            Resize.bicubicUpscaleRows(t, rowOrigin: window.origin, height: height, factor: scale, outRows: band.output,
                                      taps: taps, threads: threads)
        }
        let color: Tensor
        if channels == .y, residual == .bicubic, let chroma = window.chroma {
            color = lumaModelRGB(y, luma: stackInput, chroma: chroma, rowOrigin: window.origin, outRows: band.output,
                                 taps: taps, threads: threads)
        } else {
            switch residual {
            case .none: break
            case .bicubic: addResidual(&y, bicubicRows(stackInput), threads: threads)
            case .nearest:
                addResidual(&y, Resize.nearestUpscaleRows(stackInput, rowOrigin: window.origin, factor: scale,
                                                          outRows: band.output), threads: threads)
            }
            color = modelOutput(y, chromaUp: window.chroma.map(bicubicRows), colorChannels: colorChannels,
                                threads: threads)
        }
        var alpha = window.alpha.map(bicubicRows)
        if alpha != nil { Model.clamp(&alpha!, threads: threads) }
        return ImageBand(color: color, alpha: alpha)
    }

    /// A y model's band on an RGB image, row by row: for each output row, the bicubic rows of Y
    /// (the residual), Cb and Cr from the window, the residual added to the stack's row, and the
    /// row converted to RGB, clamped. The same per-pixel arithmetic as `addResidual` of
    /// `bicubicUpscaleRows`, then `modelOutput` (the same row passes, the same colour map), without
    /// the band-sized planes in between: three rows of scratch per worker instead of five planes.
    /// - Parameters:
    ///   - y: the stack's output rows `outRows` (1, 1, rows, sW).
    ///   - luma, chroma: the window's Y (1, 1, n, W) and CbCr (1, 2, n, W), image rows from `rowOrigin`.
    /// - Returns: RGB (1, 3, rows, sW), clamped.
    func lumaModelRGB(_ y: Tensor, luma: Tensor, chroma: Tensor, rowOrigin: Int, outRows: Range<Int>,
                      taps: Resize.BicubicTaps, threads: Int) -> Tensor {
        let (n, w, outW) = (luma.shape[2], luma.shape[3], y.shape[3])
        let rows = outRows.count
        precondition(y.shape == [1, 1, rows, outW] && chroma.shape == [1, 2, n, w] && outW == scale * w,
                     "band shapes")
        let plane = rows * outW
        return Tensor(shape: [1, 3, rows, outW]) { out in
            y.withUnsafeBufferPointer { y in
            luma.withUnsafeBufferPointer { luma in
            chroma.withUnsafeBufferPointer { chroma in
            taps.rows.withPointers { rowTaps in
            taps.colsByPhase.withPointers { colTaps in
                guard let dst = out.baseAddress, let y = y.baseAddress, let luma = luma.baseAddress,
                      let chroma = chroma.baseAddress else { return }
                // Each item owns output row k of the three planes.
                parallelFor(rows, threads: threads) { k in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: w + 3 * outW) { scratch in
                        let short = scratch.baseAddress!, yRow = short + w, cb = yRow + outW, cr = cb + outW
                        func upscaledRow(_ source: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
                            Resize.heightPassRow(rowTaps, plane: source, rowOrigin: rowOrigin, width: w,
                                                 output: outRows.lowerBound + k, quantize: false, into: short)
                            Resize.widthPassRow(colTaps, input: short, quantize: false, into: row)
                        }
                        upscaledRow(luma, into: yRow)
                        let stackRow = y + k * outW
                        for i in 0..<outW { yRow[i] = stackRow[i] + yRow[i] }   // addResidual's y += base
                        upscaledRow(chroma, into: cb)
                        upscaledRow(chroma + n * w, into: cr)
                        ColorSpace.yCbCrToRGBClampedRow(yRow, cb, cr, count: outW, into: dst + k * outW,
                                                        dst + plane + k * outW, dst + 2 * plane + k * outW)
                    }
                }
            }
            }
            }
            }
            }
        }
    }

    /// The stack's output rows `band.output` (1, Cout, rows, sW): the band's row ranges crossed with
    /// the tile plan's column tiles, each tile reading the window (image rows from `windowOrigin`).
    func runStackBand(_ band: BandPlan.Band, window: Tensor, windowOrigin: Int, tiles: TilePlan,
                      threads: Int, scratch: TileScratchPool, tracker: RunTracker) throws -> Tensor {
        let columns = tiles.colPlans   // the column tiles partition the band's output columns
        return try runTiles(columns.count, { c in Tile(regions: zip(band.stackRows, columns[c]).map { TileRect(rows: $0, cols: $1) }) },
                            image: window, imageRowOrigin: windowOrigin, imageHeight: tiles.sizes[0].0 - 2 * inputPadding,
                            outputRows: band.output,
                            width: tiles.sizes[tiles.sizes.count - 1].1, threads: threads, scratch: scratch, tracker: tracker)
    }
}
