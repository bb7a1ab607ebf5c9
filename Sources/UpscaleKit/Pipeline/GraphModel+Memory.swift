// What a graph model's run holds in memory, known before anything is allocated: the streamed
// pipeline's buffers by replaying its row schedule on integers (the same steps GraphPipeline
// takes, so the same peak: GraphPipelineTests checks they agree), and the whole-image run's
// live values.

extension GraphModel {
    /// The most floats the pipeline's buffers hold at once for an image of `height` × `width` whose
    /// output rows are asked for in `bands` (consecutive ranges from 0 to scale·height).
    public func pipelinePeakFloats(height: Int, width: Int, bands: [Range<Int>], stepRows: Int? = nil) -> Int {
        let step = max(1, stepRows ?? scale * sizeMultiple)
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        var schedule = GraphRowSchedule(model: self, paddedHeight: paddedH)
        let rowFloats = shapes.map { $0.channels * $0.cols.of(paddedW) }   // floats per row of each value
        let imageRowFloats = channels.count * paddedW
        var origin = [Int](repeating: 0, count: nodes.count), end = origin
        var imageOrigin = 0, imageEnd = 0, tailRows = 0
        var held = 0, peak = 0
        func keep(_ v: Int, from row: Int) {
            if v == GraphNode.image {
                let drop = min(max(0, row - imageOrigin), imageEnd - imageOrigin)
                imageOrigin += drop; held -= drop * imageRowFloats
            } else {
                let drop = min(max(0, row - origin[v]), end[v] - origin[v])
                origin[v] += drop; held -= drop * rowFloats[v]
            }
        }
        for band in bands {
            for target in stride(from: band.lowerBound + step, to: band.upperBound + step, by: step) {
                let (imageNeed, compute) = schedule.advance(to: min(target, band.upperBound))
                if imageNeed > imageEnd {
                    let realEnd = min(imageNeed, height)
                    if realEnd > imageEnd {
                        tailRows += max(0, realEnd - max(imageEnd, height - sizeMultiple))
                    }
                    keep(GraphNode.image, from: schedule.keepFrom(GraphNode.image))
                    held += (imageNeed - imageEnd) * imageRowFloats
                    imageEnd = imageNeed
                }
                for (k, range) in compute.enumerated() where !range.isEmpty {
                    schedule.finished(k, upTo: range.upperBound)
                    end[k] = range.upperBound
                    held += range.count * rowFloats[k]
                    peak = max(peak, held + tailRows * imageRowFloats)
                    for v in Set(nodes[k].inputs) { keep(v, from: schedule.keepFrom(v)) }
                }
            }
            keep(nodes.count - 1, from: band.upperBound)
        }
        return peak
    }

    /// Bytes of the streamed run's buffers at their peak, plus the largest buffer once more (a
    /// buffer is rebuilt beside itself when rows are added) and one step's new rows of the widest value.
    public func pipelineBytes(height: Int, width: Int, bands: [Range<Int>]) -> Int {
        let paddedW = GraphModel.roundUp(width, sizeMultiple)
        let widest = shapes.map { $0.channels * $0.cols.of(paddedW) }.max() ?? 0
        let stepRowsOfWidest = max(1, scale * sizeMultiple)   // an upper bound on one step's rows of any value
        return 4 * (pipelinePeakFloats(height: height, width: width, bands: bands) + 2 * widest * (stepRowsOfWidest + 2))
    }

    /// Bytes of the whole-image run (`networkOutput`, test-time augmentation) at its peak: the
    /// padded input and the values alive when each node's output is made.
    public func wholeImageBytes(height: Int, width: Int) -> Int {
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        let size = shapes.map { $0.channels * $0.rows.of(paddedH) * $0.cols.of(paddedW) }
        var live = channels.count * paddedH * paddedW, peak = live
        for (k, node) in nodes.enumerated() {
            live += size[k]
            peak = max(peak, live)
            for v in Set(node.inputs) where v != GraphNode.image && lastUse[v] == k { live -= size[v] }
        }
        return 4 * peak
    }
}
