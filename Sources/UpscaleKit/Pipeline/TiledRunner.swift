// The tiled runner: the model's stack over a (1, C, H, W) image, tile by tile (see TilePlan.swift).
//
// For each tile and layer l, the layer computes exactly the part of its output the next layer
// needs (`regions[l + 1]`) from exactly the part of its input that part reaches (`regions[l]`,
// clipped to the feature map's true extent): a window of the conv (ConvTranspose2DPlan.runWindow,
// one plan per layer built once by the model, with its activation). Taps that leave the
// input window leave the feature map too, so they read the zeros the whole-image run reads there;
// each output element sums the same products as the whole-image run, and the conv kernel adds them
// in an order that depends on neither the position nor the image size: tiled output is
// bit-identical to the whole image at once, for any tile size and thread count.
//
// Input padding P: the tile's first region is in the padded image's coordinates; the tile copies
// it from the image with each coordinate clamped to the border (`padTileInput`) and runs the stack
// on that copy, so every tile sees the padded image the whole-image run sees.
//
// Threads: tiles run in parallel on `parallelFor`; each worker owns its tile's output rectangle
// (the tiles partition the output), so no two workers write the same element. The conv inside a
// tile gets the threads left over (threads / tile workers). Memory: the input and output images
// plus, per worker, two feature maps of a tile (TileScratch), reused from tile to tile.

import Foundation

extension Model {
    /// The raw stack on a model-space tensor (1, Cmodel, H, W) as the upscale loop runs it: tiled,
    /// or streamed as its chain where `streamGraph` says so; no colour conversion, no residual, no
    /// clamp (the network alone, e.g. to time it or to compare it with PyTorch). With `options.tta`,
    /// the average of the 8 flipped/rotated runs (tiled).
    /// - Returns: (1, Cmodel, scale·H, scale·W).
    /// - Throws: `ModelError` for a wrong input shape, `CancellationError` when cancelled.
    public func stackOutput(_ input: Tensor, options: RunOptions) throws -> Tensor {
        let source = metadata["name"] ?? "<model>"
        guard input.rank == 4, input.shape[0] == 1, input.shape[1] == channels.count,
              input.shape[2] > 0, input.shape[3] > 0 else {
            throw ModelError("\(source): the stack needs a (1, \(channels.count), H, W) tensor with H, W ≥ 1, got \(input.shape)")
        }
        let tileSize = max(1, options.tileSize)
        let tiles = ((input.shape[2] + tileSize - 1) / tileSize) * ((input.shape[3] + tileSize - 1) / tileSize)
        let tracker = RunTracker(options: options, total: tiles * (options.tta ? 8 : 1))
        let threads = max(1, options.threads)
        if graph == nil, let chain = streamGraph(width: input.shape[3], tta: options.tta) {
            return try graphWholeImage(chain, input, tileSize: tileSize, threads: threads, tracker: tracker)
        }
        return options.tta ? try stackAveragedOverFlips(input, tileSize: tileSize, threads: threads, tracker: tracker)
                           : try stackWholeImage(input, tileSize: tileSize, threads: threads, tracker: tracker)
    }

    /// The stack over the whole of `input` (1, Cmodel, H, W) → (1, Cmodel, scale·H, scale·W), every tile.
    func stackWholeImage(_ input: Tensor, tileSize: Int, threads: Int, tracker: RunTracker) throws -> Tensor {
        if let graph { return try graphWholeImage(graph, input, tileSize: tileSize, threads: threads, tracker: tracker) }
        let (height, width) = (input.shape[2], input.shape[3])
        let plan = TilePlan(height: height, width: width, tileSize: tileSize,
                            rows: rowGeometry, cols: colGeometry, inputPadding: inputPadding)
        let (outH, outW) = plan.sizes[plan.sizes.count - 1]
        let scratch = TileScratchPool(capacities: scratchCapacities(rowPlans: plan.rowPlans, colPlans: plan.colPlans))
        return try stackTiles(plan.count, plan.tile, image: input, imageRowOrigin: 0, imageHeight: height,
                              outputRows: 0..<outH, width: outW, threads: threads, scratch: scratch, tracker: tracker)
    }

    /// Tiles `tile(0) ..< tile(count)` of `image` (which holds the image's rows from
    /// `imageRowOrigin` on, of `imageHeight` in all), whose outputs partition the stack's output rows `outputRows` × all
    /// `width` columns, in parallel → those rows (1, Cout, outputRows.count, width). The whole-image
    /// run and each band of the upscale loop.
    /// - Throws: `CancellationError` when `tracker` says stop (the partial output is dropped).
    /// - Parameter storage: when given, the output takes its storage from it (what a previous
    ///   band's output left there, when large enough) instead of fresh memory.
    func stackTiles(_ count: Int, _ tile: (Int) -> Tile, image: Tensor, imageRowOrigin: Int, imageHeight: Int,
                  outputRows: Range<Int>,
                  width: Int, threads: Int, scratch: TileScratchPool, tracker: RunTracker,
                  storage: FloatStorage? = nil) throws -> Tensor {
        precondition(graph == nil, "a graph model's stand-in layer is not run")
        let cOut = layers[layers.count - 1].outChannels
        let tileWorkers = max(1, min(threads, count))
        let convThreads = max(1, threads / tileWorkers)
        // Not zero-filled: the tiles write every element (their outputs partition the rows), unless
        // the run stops early, and then it is thrown away below.
        let output = Tensor(shape: [1, cOut, outputRows.count, width], storage: storage) { out in
            // Worker for item i owns output rectangle tile(i).output.
            parallelFor(count, threads: tileWorkers) { i in
                if tracker.shouldStop() { return }
                let t = tile(i)
                tracker.busy { scratch.withScratch { maps in
                    let y = stackTile(t, image: image, imageRowOrigin: imageRowOrigin, imageHeight: imageHeight,
                                    threads: convThreads, scratch: maps)  // (1, Cout, th, tw)
                    if !Model.allFinite(y) { tracker.sawNonFinite() }
                    place(y, channels: cOut, at: t.output, rowOrigin: outputRows.lowerBound, into: out,
                          height: outputRows.count, width: width)
                } }
                tracker.tileDone()
            }
        }
        if tracker.nonFinite {
            throw ModelError("\(metadata["name"] ?? "<model>"): the model produced NaN/infinite values "
                             + "(its weights overflow 32-bit floats on this image); no output was written",
                             kind: .nonFiniteOutput)
        }
        if tracker.wasStopped { throw CancellationError() }
        return output
    }

    /// True when every value is finite. x − x is 0 for a finite x and NaN for ±inf and NaN, so
    /// one SIMD sum over the tile answers it: a pass as cheap as a copy of the tile's output,
    /// next to the convolutions that made it.
    static func allFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = values.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= values.count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            acc += v - v
            i += 16
        }
        var tail: Float = 0
        while i < values.count { tail += values[i] - values[i]; i += 1 }
        return !(acc.sum() + tail).isNaN
    }

    /// Floats of the two scratch maps that hold every layer's output of every tile made of these
    /// row and column plans (per layer: the longest row range × the longest column range × its
    /// channels; map l % 2 holds layer l's output; with input padding, map 2 the padded tile input).
    /// Sized once, the maps are mapped once: growing
    /// them tile by tile faulted in about three times as much fresh memory.
    func scratchCapacities(rowPlans: [[Range<Int>]], colPlans: [[Range<Int>]]) -> [Int] {
        var capacities = [0, 0]
        for (l, layer) in layers.enumerated() {
            let rows = rowPlans.map { $0[l + 1].count }.max() ?? 0
            let cols = colPlans.map { $0[l + 1].count }.max() ?? 0
            capacities[l % 2] = max(capacities[l % 2], layer.outChannels * rows * cols)
        }
        if inputPadding > 0 {
            let rows = rowPlans.map { $0[0].count }.max() ?? 0
            let cols = colPlans.map { $0[0].count }.max() ?? 0
            capacities.append(layers[0].inChannels * rows * cols)
        }
        return capacities
    }

    /// Copies a tile's output `y` (1, channels, r.height, r.width) to rectangle `r` of `out`
    /// (1, channels, height, width), which holds the output rows from `rowOrigin` on.
    func place(_ y: UnsafeBufferPointer<Float>, channels: Int, at r: TileRect, rowOrigin: Int,
               into out: UnsafeMutableBufferPointer<Float>, height: Int, width: Int) {
        precondition(r.rows.lowerBound >= rowOrigin && r.rows.upperBound <= rowOrigin + height, "tile outside the band")
        precondition(y.count == channels * r.height * r.width, "tile output size")
        guard let src = y.baseAddress, let dst = out.baseAddress else { return }
        for c in 0..<channels {
            for row in 0..<r.height {
                (dst + (c * height + r.rows.lowerBound - rowOrigin + row) * width + r.cols.lowerBound)
                    .update(from: src + (c * r.height + row) * r.width, count: r.width)
            }
        }
    }

    /// One tile through every layer: image region `tile.regions[0]` → output region `tile.output`.
    /// `image` holds the image's rows from `imageRowOrigin` on (a band of the streaming path; 0 for
    /// the whole image), `imageHeight` rows in all. With input padding, `tile.regions[0]` is in the
    /// padded image's coordinates and is copied into scratch map 2 first (`padTileInput`).
    ///
    /// Layer l computes exactly region `tile.regions[l + 1]` of its output from region
    /// `tile.regions[l]` of its input (layer 0: the image band itself, read in place), into the
    /// scratch maps l % 2; `regions[l]` holds every input that region reaches (TilePlan), so each
    /// element is the whole-image run's (ConvTranspose2DPlan.runWindow).
    /// - Returns: the tile's output (1, Cout, output.height, output.width), in `scratch`: valid
    ///   until the scratch runs its next tile.
    func stackTile(_ tile: Tile, image: Tensor, imageRowOrigin: Int = 0, imageHeight: Int, threads: Int,
                 scratch: TileScratch) -> UnsafeBufferPointer<Float> {
        let read = tile.regions[0]
        let band = TileRect(rows: imageRowOrigin..<(imageRowOrigin + image.shape[2]), cols: 0..<image.shape[3])
        let readRows = TilePlan.imageRange(read.rows, inputPadding: inputPadding, length: imageHeight)
        precondition(readRows.lowerBound >= band.rows.lowerBound && readRows.upperBound <= band.rows.upperBound,
                     "the image band does not hold the rows the tile reads")
        return image.withUnsafeBufferPointer { pixels in
            guard let first = pixels.baseAddress else { preconditionFailure("an empty image band") }
            var (x, from) = (first, band)   // x: (1, Cin, from.height, from.width)
            if inputPadding > 0 {
                x = UnsafePointer(padTileInput(read, band: first, bandRows: band.rows, width: band.width,
                                               imageHeight: imageHeight, scratch: scratch))
                from = read
            }
            for (l, layer) in layers.enumerated() {
                let to = tile.regions[l + 1]
                let count = layer.outChannels * to.height * to.width
                let y = scratch.map(l % 2, count: count)   // (1, Cout, to.height, to.width)
                plans[l].runWindow(input: x, inputOrigin: (from.rows.lowerBound, from.cols.lowerBound),
                                   inputSize: (from.height, from.width),
                                   outputOrigin: (to.rows.lowerBound, to.cols.lowerBound),
                                   outputSize: (to.height, to.width), output: y,
                                   tilePhase: (layer.rowGeometry.phase, layer.colGeometry.phase), threads: threads)
                (x, from) = (UnsafePointer(y), to)
            }
            return UnsafeBufferPointer(start: x, count: layers[layers.count - 1].outChannels * from.height * from.width)
        }
    }
}

extension Model {
    /// The padded image's region `read` (padded coordinates: pixel (i, j) shows image pixel
    /// (clamp(i − P, 0, H − 1), clamp(j − P, 0, W − 1))), copied from the band of image rows
    /// `bandRows` (1, Cin, bandRows.count, width) into scratch map 2.
    /// - Returns: (1, Cin, read.height, read.width), valid until the scratch's next tile.
    func padTileInput(_ read: TileRect, band: UnsafePointer<Float>, bandRows: Range<Int>, width: Int, imageHeight: Int,
                      scratch: TileScratch) -> UnsafeMutablePointer<Float> {
        let cIn = layers[0].inChannels
        let padded = scratch.map(2, count: cIn * read.height * read.width)  // (1, Cin, read.height, read.width)
        let p = inputPadding
        for c in 0..<cIn {
            for (i, row) in read.rows.enumerated() {
                let srcRow = min(max(row - p, 0), imageHeight - 1)
                precondition(bandRows.contains(srcRow), "the image band does not hold row \(srcRow)")
                let src = band + (c * bandRows.count + srcRow - bandRows.lowerBound) * width
                let dst = padded + (c * read.height + i) * read.width
                for (j, col) in read.cols.enumerated() { dst[j] = src[min(max(col - p, 0), width - 1)] }
            }
        }
        return padded
    }
}
