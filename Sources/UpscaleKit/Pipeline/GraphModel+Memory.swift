// What a graph model's run holds in memory, known before anything is allocated: the streamed
// pipeline's buffers by replaying its row schedule on integers (the same steps GraphPipeline
// takes, so the same peak: GraphPipelineTests checks they agree), and the whole-image run's
// live values.

extension GraphModel {
    /// The most floats the pipeline's buffers hold at once for an image of `height` × `width` whose
    /// output rows are asked for in `bands` (consecutive ranges from 0 to scale·height): the same
    /// passes as GraphPipeline.outputRows, on row counts.
    public func pipelinePeakFloats(height: Int, width: Int, bands: [Range<Int>], fetchRows: Int? = nil) -> Int {
        let fetchStep = max(1, fetchRows ?? sizeMultiple)
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        var schedule = GraphRowSchedule(model: self, paddedHeight: paddedH, fetchRows: fetchStep)
        let rowFloats = shapes.map { $0.channels * $0.cols.of(paddedW) }   // floats per row of each value
        let imageRowFloats = channels.count * paddedW
        var origin = [Int](repeating: 0, count: nodes.count), end = origin
        var imageOrigin = 0, tailRows = 0
        var held = 0, peak = 0
        func keep(_ v: Int, from row: Int) {
            if v == GraphNode.image {
                let drop = min(max(0, row - imageOrigin), schedule.imageFetched - imageOrigin)
                imageOrigin += drop; held -= drop * imageRowFloats
            } else if schedule.virtual[v] {   // holds nothing; its parts hold its rows
                for part in Set(nodes[v].inputs) { keep(part, from: schedule.keepFrom(part)) }
            } else {
                let drop = min(max(0, row - origin[v]), end[v] - origin[v])
                origin[v] += drop; held -= drop * rowFloats[v]
            }
        }
        let last = nodes.count - 1
        for band in bands {
            while schedule.done[last] < band.upperBound {
                let before = schedule.imageFetched
                let next = min(paddedH, before + fetchStep)
                if next > before {
                    let realEnd = min(next, height)
                    if realEnd > before { tailRows += max(0, realEnd - max(before, height - sizeMultiple)) }
                    keep(GraphNode.image, from: schedule.keepFrom(GraphNode.image))
                    held += (next - before) * imageRowFloats
                    schedule.fetched(upTo: next)
                }
                var moved = next > before
                for k in 0..<nodes.count {
                    let range = schedule.ready(k)
                    guard !range.isEmpty else { continue }
                    moved = true
                    if schedule.virtual[k] {
                        schedule.finished(k, upTo: range.upperBound)
                        continue
                    }
                    if case .conv = nodes[k].op, nodes[k].inputs[0] >= 0, schedule.virtual[nodes[k].inputs[0]] {
                        let window = schedule.inputRows(of: k, nodes[k].inputs[0], forOutput: range).count * rowFloats[nodes[k].inputs[0]]
                        peak = max(peak, held + tailRows * imageRowFloats + window)
                    }
                    schedule.finished(k, upTo: range.upperBound)
                    end[k] = range.upperBound
                    held += range.count * rowFloats[k]
                    peak = max(peak, held + tailRows * imageRowFloats)
                    for v in Set(nodes[k].inputs) { keep(v, from: schedule.keepFrom(v)) }
                }
                precondition(moved, "the replayed pipeline made no progress")
            }
            keep(last, from: band.upperBound)
        }
        return peak
    }

    /// Bytes of the streamed run's buffers at their peak, plus the largest buffer once more (a
    /// buffer is rebuilt beside itself when rows are added) and one step's new rows of the widest value.
    public func pipelineBytes(height: Int, width: Int, bands: [Range<Int>]) -> Int {
        let paddedW = GraphModel.roundUp(width, sizeMultiple)
        let widest = shapes.map { $0.channels * $0.cols.of(paddedW) }.max() ?? 0
        let passRows = GraphModel.roundUp(max(1, scale * sizeMultiple), rowAlignment)   // about the rows of any value one pass adds
        return 4 * (pipelinePeakFloats(height: height, width: width, bands: bands) + 2 * widest * (passRows + 2))
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
