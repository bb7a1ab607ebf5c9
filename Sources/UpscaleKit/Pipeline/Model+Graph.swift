// Where the upscale loop and the whole-image runner hand a graph model's network to the graph
// executor: the streamed pipeline (GraphPipeline) for the loop's bands, and for a whole image
// (test-time augmentation's flips, `stackOutput`) the same pipeline asked for the image's rows
// band after band, so that memory stays bounded and progress moves. Both check for NaN and
// infinity as the stack runner does.

extension GraphModel {
    /// The network on a whole image through the streamed pipeline, as `upscale` runs it: output
    /// rows asked for in bands of `bandRows`, `bandDone(rowsDone, rowsTotal)` after each.
    /// - Parameter input: (1, C, H, W), C the model's channel count.
    /// - Returns: the output (1, C, scale·H, scale·W), and the pipeline (its row counts, memory).
    public func streamedOutput(_ input: Tensor, threads: Int, bandRows: Int = 16,
                               bandDone: ((Int, Int) throws -> Void)? = nil) throws -> (output: Tensor, pipeline: GraphPipeline) {
        let source = metadata["name"] ?? "<model>"
        guard input.rank == 4, input.shape[0] == 1, input.shape[1] == channels.count, input.shape[2] > 0, input.shape[3] > 0 else {
            throw ModelError("\(source): the network needs a (1, \(channels.count), H, W) tensor with H, W ≥ 1, got \(input.shape)")
        }
        let (h, w) = (input.shape[2], input.shape[3])
        let (outH, outW) = (scale * h, scale * w)
        let pipeline = GraphPipeline(model: self, height: h, width: w, threads: threads)
        var output = Tensor(zeros: [1, channels.count, outH, outW])   // (1, C, sH, sW)
        for start in stride(from: 0, to: outH, by: max(1, bandRows)) {
            let rows = start..<min(outH, start + max(1, bandRows))
            let band = try pipeline.outputRows(rows) { Model.rows($0, of: input) }   // (1, C, rows, sW)
            output.withUnsafeMutableBufferPointer { dst in
                band.withUnsafeBufferPointer { src in
                    for c in 0..<channels.count {
                        (dst.baseAddress! + (c * outH + rows.lowerBound) * outW)
                            .update(from: src.baseAddress! + c * rows.count * outW, count: rows.count * outW)
                    }
                }
            }
            try bandDone?(rows.upperBound, outH)
        }
        return (output, pipeline)
    }

    /// How many times one whole-image pass the pipeline's rows cost: rows each convolution
    /// computed, weighted by its multiply-adds per row, over the rows of one pass of the padded
    /// image. 1 while every row is computed once (full-width rows); more where rows are computed again
    /// (a recomputed copy's rows, `copyOf`, count as done, not as the pass's).
    public func workFactor(rowsComputed: [Int], paddedHeight: Int) -> Double {
        var done = 0.0, pass = 0.0
        for (k, node) in nodes.enumerated() {
            guard case .conv(let layer) = node.op else { continue }
            // multiply-adds per output row: input pixels per output row × taps per input pixel
            let (input, output) = (shape(of: node.inputs[0]), shapes[k])
            let inputRowsPerRow = Double(input.rows.numerator * output.rows.denominator) / Double(input.rows.denominator * output.rows.numerator)
            let perRow = inputRowsPerRow * Double(input.cols.numerator) / Double(input.cols.denominator)
                * Double(layer.inChannels * layer.weightShape[1] * layer.kernel.0 * layer.kernel.1)
            done += Double(rowsComputed[k]) * perRow
            if copyOf[k] == nil { pass += Double(shapes[k].rows.of(paddedHeight)) * perRow }
        }
        return pass > 0 ? done / pass : 1
    }
}

extension GraphPipeline {
    /// `GraphModel.workFactor` of this run's rows so far.
    public var workFactor: Double { model.workFactor(rowsComputed: rowsComputed, paddedHeight: paddedHeight) }
}

extension Model {
    /// The graph's output rows `rows` for one band of the upscale loop, (1, C, rows, scale·W);
    /// `fetch` gives the image rows the pipeline asks for (model space). Counts the band's
    /// `tiles` as done for progress.
    func graphRows(_ pipeline: GraphPipeline, _ rows: Range<Int>, tiles: Int, tracker: RunTracker,
                   fetch: (Range<Int>) throws -> Tensor) throws -> Tensor {
        if tracker.shouldStop() { throw CancellationError() }
        let y = try pipeline.outputRows(rows, fetch: fetch)
        try checkFinite(y)
        for _ in 0..<tiles { tracker.tileDone() }
        return y
    }

    /// The graph on a whole image (1, C, H, W) → (1, C, scale·H, scale·W), streamed. Progress:
    /// the tracker counts this image as the tiles of `tileSize` a stack's run would have (the
    /// total the callers set: 8 images of them under TTA), ticked as the output rows are done.
    func graphWholeImage(_ graph: GraphModel, _ input: Tensor, tileSize: Int, threads: Int, tracker: RunTracker) throws -> Tensor {
        let tiles = TilePlan(height: input.shape[2], width: input.shape[3], tileSize: tileSize, rows: rowGeometry,
                             cols: colGeometry, inputPadding: inputPadding).count
        if tracker.shouldStop() { throw CancellationError() }
        var ticked = 0
        let (y, _) = try graph.streamedOutput(input, threads: threads) { done, total in
            if tracker.shouldStop() { throw CancellationError() }
            while ticked < tiles * done / total { tracker.tileDone(); ticked += 1 }
        }
        try checkFinite(y)
        return y
    }

    private func checkFinite(_ y: Tensor) throws {
        guard y.withUnsafeBufferPointer(Model.allFinite) else {
            throw ModelError("\(metadata["name"] ?? "<model>"): the model produced NaN/infinite values "
                             + "(its weights overflow 32-bit floats on this image); no output was written",
                             kind: .nonFiniteOutput)
        }
    }
}
