// The tiled runner: the model's stack over a (1, C, H, W) image, tile by tile (see TilePlan.swift).
//
// For each tile and layer l, the layer runs on exactly the part of its input the tile needs
// (`regions[l]`, clipped to the feature map's true extent) and keeps exactly the part of its output
// the next layer needs (`regions[l + 1]`). The conv (a ConvTranspose2DPlan per layer, built once by the
// model, activation fused when possible) runs unpadded (padding 0, output_padding 0), so
// its output covers every position the tile's inputs reach; the crop then takes `regions[l + 1]`
// from it, and a position no tile input reaches gets the bias alone, as in the whole-image run.
// Each output element therefore sums the same products as the whole-image run, and the conv
// kernel adds them in an order that depends on neither the position nor the image size: tiled
// output is bit-identical to the whole image at once, for any tile size and thread count.
//
// Threads: tiles run in parallel on `parallelFor`; each worker owns its tile's output rectangle
// (the tiles partition the output), so no two workers write the same element. The conv inside a
// tile gets the threads left over (threads / tile workers). Memory: the input and output images
// plus, per worker, one tile's feature maps.

import Foundation

extension Model {
    /// The raw stack on a model-space tensor (1, Cmodel, H, W), tiled: no colour conversion, no
    /// residual, no clamp. With `options.tta`, the average of the 8 flipped/rotated runs.
    /// - Returns: (1, Cmodel, scale·H, scale·W).
    /// - Throws: `ModelError` for a wrong input shape, `CancellationError` when cancelled.
    public func runStack(_ input: Tensor, options: RunOptions) throws -> Tensor {
        let source = metadata["name"] ?? "<model>"
        guard input.rank == 4, input.shape[0] == 1, input.shape[1] == channels.count,
              input.shape[2] > 0, input.shape[3] > 0 else {
            throw ModelError("\(source): the stack needs a (1, \(channels.count), H, W) tensor with H, W ≥ 1, got \(input.shape)")
        }
        let tracker = RunTracker(options: options, total: tileCount(height: input.shape[2], width: input.shape[3],
                                                                       options: options) * (options.tta ? 8 : 1))
        return try runStack(input, options: options, tracker: tracker)
    }

    func tileCount(height: Int, width: Int, options: RunOptions) -> Int {
        let t = max(1, options.tileSize)
        return ((height + t - 1) / t) * ((width + t - 1) / t)
    }

    /// `runStack` with TTA handled, progress and cancellation through `tracker`.
    func runStack(_ input: Tensor, options: RunOptions, tracker: RunTracker) throws -> Tensor {
        guard options.tta else { return try runTiled(input, options: options, tracker: tracker) }
        // The 8 elements of the dihedral group: transpose?, flip rows?, flip columns?. Each pass
        // runs the stack on the transformed image and undoes the transform on the result; the
        // passes are summed in this fixed order, then divided by 8.
        var sum: Tensor? = nil
        for k in 0..<8 {
            let (transpose, flipRows, flipCols) = (k & 4 != 0, k & 2 != 0, k & 1 != 0)
            let x = Dihedral.apply(input, transpose: transpose, flipRows: flipRows, flipCols: flipCols)
            let y = try runTiled(x, options: options, tracker: tracker)
            let back = Dihedral.invert(y, transpose: transpose, flipRows: flipRows, flipCols: flipCols)
            if var s = sum {
                s.withUnsafeMutableBufferPointer { acc in for i in 0..<acc.count { acc[i] += back.data[i] } }
                sum = s
            } else {
                sum = back
            }
        }
        guard var result = sum else { preconditionFailure("8 passes ran") }
        result.withUnsafeMutableBufferPointer { acc in for i in 0..<acc.count { acc[i] /= 8 } }
        return result
    }

    /// The stack over `input` (1, Cmodel, H, W) → (1, Cmodel, scale·H, scale·W), tile by tile.
    func runTiled(_ input: Tensor, options: RunOptions, tracker: RunTracker) throws -> Tensor {
        let (height, width) = (input.shape[2], input.shape[3])
        let plan = TilePlan(height: height, width: width, tileSize: max(1, options.tileSize),
                            rows: rowGeometry, cols: colGeometry)
        let (outH, outW) = plan.sizes[plan.sizes.count - 1]
        let cOut = layers[layers.count - 1].outChannels
        let threads = max(1, options.threads)
        let tileWorkers = min(threads, plan.count)
        let convThreads = max(1, threads / tileWorkers)
        let failure = FirstError()
        var output = [Float](repeating: 0, count: cOut * outH * outW)  // (1, Cout, outH, outW)
        output.withUnsafeMutableBufferPointer { out in
            // Worker for item t owns output rectangle plan.tile(t).output (the tiles partition the output).
            parallelFor(plan.count, threads: tileWorkers) { t in
                if failure.isSet || tracker.shouldStop() { return }
                do {
                    let tile = plan.tile(t)
                    let y = try runTile(tile, sizes: plan.sizes, image: input, threads: convThreads)  // (1, Cout, th, tw)
                    place(y, at: tile.output, rowOrigin: 0, into: out, height: outH, width: outW)
                    tracker.tileDone()
                } catch {
                    failure.set(error)
                }
            }
        }
        if let error = failure.error { throw error }
        if tracker.wasStopped { throw CancellationError() }
        return Tensor(shape: [1, cOut, outH, outW], data: output)
    }

    /// Copies a tile's output `y` (1, Cout, r.height, r.width) to rectangle `r` of `out`
    /// (1, Cout, height, width), which holds the output rows from `rowOrigin` on.
    func place(_ y: Tensor, at r: TileRect, rowOrigin: Int, into out: UnsafeMutableBufferPointer<Float>,
               height: Int, width: Int) {
        precondition(r.rows.lowerBound >= rowOrigin && r.rows.upperBound <= rowOrigin + height, "tile outside the band")
        for c in 0..<y.shape[1] {
            for row in 0..<r.height {
                let src = (c * r.height + row) * r.width
                let dst = (c * height + r.rows.lowerBound - rowOrigin + row) * width + r.cols.lowerBound
                for col in 0..<r.width { out[dst + col] = y.data[src + col] }
            }
        }
    }

    /// One tile through every layer: image region `tile.regions[0]` → output region `tile.output`.
    /// `sizes[l]` is layer l's whole input extent (the tile plan's `sizes`). `image` holds the
    /// image's rows from `imageRowOrigin` on (a band of the streaming path; 0 for the whole image).
    func runTile(_ tile: Tile, sizes: [(Int, Int)], image: Tensor, imageRowOrigin: Int = 0, threads: Int) throws -> Tensor {
        let read = tile.regions[0]
        precondition(read.rows.lowerBound >= imageRowOrigin && read.rows.upperBound <= imageRowOrigin + image.shape[2],
                     "the image band does not hold the rows the tile reads")
        let shifted = TileRect(rows: (read.rows.lowerBound - imageRowOrigin)..<(read.rows.upperBound - imageRowOrigin),
                               cols: read.cols)
        var x = crop(image, shifted)  // (1, C0, h0, w0)
        for l in 0..<layers.count {
            let whole = tile.regions[l] == TileRect(rows: 0..<sizes[l].0, cols: 0..<sizes[l].1)
                && tile.regions[l + 1] == TileRect(rows: 0..<sizes[l + 1].0, cols: 0..<sizes[l + 1].1)
            x = try runLayer(l, x, from: tile.regions[l], to: tile.regions[l + 1], whole: whole, threads: threads)
        }
        return x
    }

    /// Layer l on feature-map region `from` (x: (1, Cin, from.height, from.width)) → region `to` of its
    /// output (1, Cout, to.height, to.width). The one place the conv is called. `whole`: `from` and `to`
    /// are the whole feature maps, so the padded conv gives `to` directly (same values, no crop).
    func runLayer(_ l: Int, _ x: Tensor, from: TileRect, to: TileRect, whole: Bool, threads: Int) throws -> Tensor {
        let layer = layers[l]
        let cOut = layer.outChannels
        let fused = Model.fusedEpilogue(layer.activation)
        if whole {
            var y = try paddedPlans[l].run(x, threads: threads)  // (1, Cout, to.height, to.width)
            if fused == nil { layer.activation.apply(&y) }
            return y
        }
        // A position no input of the tile reaches holds the bias alone (then the activation), as in
        // the whole-image run; with a fused epilogue the plan's output already carries it.
        let fill: [Float] = (0..<cOut).map { c in
            let b = layer.bias?.data[c] ?? 0
            switch fused {
            case .relu?: return max(b, 0)
            case .leakyReLU(let slope)?: return b < 0 ? b * slope : b
            case .prelu(let slopes)?: return b < 0 ? b * (slopes.count == 1 ? slopes[0] : slopes[c]) : b
            default: return b
            }
        }
        var y = Tensor(zeros: [1, cOut, to.height, to.width])
        if !from.isEmpty && !to.isEmpty {
            let full = try plans[l].run(x, threads: threads)  // (1, Cout, fullH, fullW), unpadded
            // full[.., i, j] is the layer's output at (rowOrigin + i, colOrigin + j).
            let rowOrigin = from.rows.lowerBound * layer.stride.0 - layer.padding.0
            let colOrigin = from.cols.lowerBound * layer.stride.1 - layer.padding.1
            let (fullH, fullW) = (full.shape[2], full.shape[3])
            // Columns of `to` that `full` covers: [jLo, jHi) in `to`'s coordinates; the rest is fill.
            let jLo = min(max(colOrigin - to.cols.lowerBound, 0), to.width)
            let jHi = max(min(colOrigin + fullW - to.cols.lowerBound, to.width), jLo)
            full.withUnsafeBufferPointer { src in
                y.withUnsafeMutableBufferPointer { dst in
                    guard let srcBase = src.baseAddress, let dstBase = dst.baseAddress else { return }
                    for c in 0..<cOut {
                        for row in 0..<to.height {
                            let out = dstBase + (c * to.height + row) * to.width
                            let i = to.rows.lowerBound + row - rowOrigin
                            guard i >= 0 && i < fullH else {
                                out.update(repeating: fill[c], count: to.width)
                                continue
                            }
                            out.update(repeating: fill[c], count: jLo)
                            let j0 = to.cols.lowerBound + jLo - colOrigin
                            (out + jLo).update(from: srcBase + (c * fullH + i) * fullW + j0, count: jHi - jLo)
                            (out + jHi).update(repeating: fill[c], count: to.width - jHi)
                        }
                    }
                }
            }
        } else {
            y.withUnsafeMutableBufferPointer { dst in
                let plane = to.height * to.width
                for c in 0..<cOut { for i in 0..<plane { dst[c * plane + i] = fill[c] } }
            }
        }
        if fused == nil { layer.activation.apply(&y) }
        return y
    }

    /// Region `r` of `t` (1, C, H, W) → (1, C, r.height, r.width).
    func crop(_ t: Tensor, _ r: TileRect) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        if r.rows == 0..<h && r.cols == 0..<w { return t }
        var out = [Float](repeating: 0, count: c * r.height * r.width)
        for ch in 0..<c {
            for row in 0..<r.height {
                let src = (ch * h + r.rows.lowerBound + row) * w + r.cols.lowerBound
                let dst = (ch * r.height + row) * r.width
                for col in 0..<r.width { out[dst + col] = t.data[src + col] }
            }
        }
        return Tensor(shape: [1, c, r.height, r.width], data: out)
    }
}

/// Progress and cancellation of one run, shared by the tile workers (all access under a lock,
/// so `progress` is never called twice at once and sees tilesDone increase).
final class RunTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var stopped = false
    let total: Int
    let progress: ((Int, Int) -> Void)?
    let isCancelled: (() -> Bool)?

    init(options: RunOptions, total: Int) {
        self.total = total
        self.progress = options.progress
        self.isCancelled = options.isCancelled
    }

    /// True once `isCancelled` has returned true.
    func shouldStop() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if !stopped, let isCancelled, isCancelled() { stopped = true }
        return stopped
    }

    var wasStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    func tileDone() {
        lock.lock(); defer { lock.unlock() }
        done += 1
        progress?(done, total)
    }
}

/// The first error thrown by any tile worker.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    var isSet: Bool { error != nil }
    func set(_ e: Error) { lock.lock(); defer { lock.unlock() }; if stored == nil { stored = e } }
}

/// The dihedral transforms of a (1, C, H, W) tensor used by test-time augmentation.
enum Dihedral {
    /// First transpose (swap H and W), then flip rows (vertical), then flip columns (horizontal).
    static func apply(_ t: Tensor, transpose: Bool, flipRows: Bool, flipCols: Bool) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        let (oh, ow) = transpose ? (w, h) : (h, w)
        var out = [Float](repeating: 0, count: t.count)
        for ch in 0..<c {
            for y in 0..<oh {
                let sy = flipRows ? oh - 1 - y : y
                for x in 0..<ow {
                    let sx = flipCols ? ow - 1 - x : x
                    // (sy, sx) in the transposed frame; (sx, sy) in the source when transposed.
                    let src = transpose ? (ch * h + sx) * w + sy : (ch * h + sy) * w + sx
                    out[(ch * oh + y) * ow + x] = t.data[src]
                }
            }
        }
        return Tensor(shape: [1, c, oh, ow], data: out)
    }

    /// The inverse of `apply` with the same flags: flips first (they are their own inverses), then transpose.
    static func invert(_ t: Tensor, transpose: Bool, flipRows: Bool, flipCols: Bool) -> Tensor {
        let unflipped = apply(t, transpose: false, flipRows: flipRows, flipCols: flipCols)
        return transpose ? apply(unflipped, transpose: true, flipRows: false, flipCols: false) : unflipped
    }
}
