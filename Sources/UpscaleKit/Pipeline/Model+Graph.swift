// Where the upscale loop and the whole-image runner hand a graph model's network to the graph
// executors: the streamed pipeline for the loop's bands (GraphPipeline), the whole-image run for
// test-time augmentation (networkOutput). Both check for NaN and infinity as the stack runner does.

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

    /// The graph on a whole image (1, C, H, W) → (1, C, scale·H, scale·W).
    func graphWholeImage(_ graph: GraphModel, _ input: Tensor, threads: Int, tracker: RunTracker) throws -> Tensor {
        if tracker.shouldStop() { throw CancellationError() }
        let y = try graph.networkOutput(input, threads: threads)
        try checkFinite(y)
        tracker.tileDone()
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
