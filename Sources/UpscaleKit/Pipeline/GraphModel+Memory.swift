// What a graph model's run holds in memory, known before anything is allocated: the streamed
// pipeline's buffers by replaying its row schedule on integers (the same steps GraphPipeline
// takes, so the same peak: GraphPipelineTests checks they agree), and the whole-image run's
// live values.

extension GraphModel {
    /// The most floats the pipeline's buffers hold at once for an image of `height` × `width` whose
    /// output rows are asked for in `bands` (consecutive ranges from 0 to scale·height): the same
    /// passes as GraphPipeline.outputRows, on row counts.
    public func pipelinePeakFloats(height: Int, width: Int, bands: [Range<Int>], fetchRows: Int? = nil) -> Int {
        if streamedGraph !== self { return streamedGraph.pipelinePeakFloats(height: height, width: width, bands: bands, fetchRows: fetchRows) }
        return replayPipeline(height: height, width: width, bands: bands, fetchRows: fetchRows, rowAlignment: 1).peakFloats
    }

    /// The rows each node computes in a streamed run of a `height` × `width` image (the pipeline's
    /// `rowsComputed` when it has delivered every row, one per node of `streamedGraph`), and their
    /// `workFactor`: what `--verbose` reports.
    public func pipelineWork(height: Int, width: Int) -> (rowsComputed: [Int], factor: Double) {
        if streamedGraph !== self { return streamedGraph.pipelineWork(height: height, width: width) }
        let paddedH = GraphModel.roundUp(height, sizeMultiple)
        let rows = replayPipeline(height: height, width: width, bands: [0..<(scale * height)], fetchRows: nil, rowAlignment: 1).rowsComputed
        return (rows, workFactor(rowsComputed: rows, paddedHeight: paddedH))
    }

    /// The ring sizes (rows) of a streamed run on a padded height: the most rows each value holds
    /// at once (0 for a virtual concat, which holds none, and for a node of an in-place chain but
    /// its host, whose ring holds the chain's rows; for the last node the rows of one pass, which
    /// leave it after the pass), and the image's. For this graph's own nodes: the pipeline asks its
    /// `streamedGraph`.
    func pipelineRingRows(paddedHeight: Int, fetchRows: Int, rowAlignment: Int) -> (image: Int, nodes: [Int]) {
        let replay = replayPipeline(height: paddedHeight, width: 1, bands: [0..<(scale * paddedHeight)], fetchRows: fetchRows,
                                    rowAlignment: rowAlignment)
        var rows = replay.nodeRows
        rows[nodes.count - 1] = max(1, replay.lastPassRows)
        return (replay.imageRows, rows)
    }

    /// The passes of GraphPipeline.outputRows on row counts: the peak of the floats held (rows and
    /// the reflection's tail), the most rows each value (an in-place chain's rows under its host)
    /// and the image hold, and the most rows the last node adds in one pass.
    private func replayPipeline(height: Int, width: Int, bands: [Range<Int>], fetchRows: Int?, rowAlignment: Int)
        -> (peakFloats: Int, imageRows: Int, nodeRows: [Int], lastPassRows: Int, rowsComputed: [Int]) {
        let fetchStep = max(1, fetchRows ?? self.fetchRows(forWidth: width))
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        var schedule = GraphRowSchedule(model: self, paddedHeight: paddedH, fetchRows: fetchStep, rowAlignment: rowAlignment)
        let rowFloats = shapes.map { $0.channels * $0.cols.of(paddedW) }   // floats per row of each value
        let imageRowFloats = channels.count * paddedW
        var origin = [Int](repeating: 0, count: nodes.count), end = origin, most = origin, computed = origin
        var imageOrigin = 0, imageMost = 0, tailRows = 0, lastPass = 0
        var held = 0, peak = 0
        func keep(_ v: Int, from row: Int) {
            if v == GraphNode.image {
                let drop = min(max(0, row - imageOrigin), schedule.imageFetched - imageOrigin)
                imageOrigin += drop; held -= drop * imageRowFloats
            } else if schedule.virtual[v] {   // holds nothing; its parts hold its rows
                for part in distinctInputs[v] { keep(part, from: schedule.keepFrom(part)) }
            } else if schedule.host[v] == v {   // rows above its own are the in-place chain's (GraphRowSchedule.host)
                let drop = min(max(0, min(row, schedule.done[v]) - origin[v]), end[v] - origin[v])
                origin[v] += drop; held -= drop * rowFloats[v]
            }
        }
        let last = nodes.count - 1
        for band in bands {
            keep(last, from: min(schedule.done[last], band.upperBound))   // copied out (GraphPipeline.outputRows)
            while schedule.done[last] < band.upperBound {
                schedule.startPass()
                let before = schedule.imageFetched
                let next = min(paddedH, before + fetchStep)
                if next > before {
                    let realEnd = min(next, height)
                    if realEnd > before { tailRows += max(0, realEnd - max(before, height - sizeMultiple)) }
                    keep(GraphNode.image, from: schedule.keepFrom(GraphNode.image))
                    held += (next - before) * imageRowFloats
                    schedule.fetched(upTo: next)
                    imageMost = max(imageMost, next - imageOrigin)
                }
                var moved = next > before, swept = true
                var passRows = 0   // the last node's rows in this pass
                while swept {
                    swept = false
                    for k in 0..<nodes.count {
                        let range = schedule.ready(k)
                        guard !range.isEmpty else { continue }
                        swept = true
                        computed[k] += range.count
                        if schedule.virtual[k] {
                            schedule.finished(k, upTo: range.upperBound)
                            continue
                        }
                        schedule.finished(k, upTo: range.upperBound)
                        let h = schedule.host[k]
                        if schedule.heads[k] {   // new rows (else computed in place over its input's)
                            end[h] = range.upperBound
                            held += range.count * rowFloats[k]
                        }
                        most[h] = max(most[h], end[h] - origin[h])
                        if k == last { passRows += range.count; lastPass = max(lastPass, passRows) }
                        peak = max(peak, held + tailRows * imageRowFloats)
                        for v in distinctInputs[k] { keep(v, from: schedule.keepFrom(v)) }
                    }
                    moved = moved || swept
                }
                precondition(moved, "the replayed pipeline made no progress")
                keep(last, from: min(schedule.done[last], band.upperBound))
            }
            keep(last, from: band.upperBound)
        }
        return (peak, imageMost, most, lastPass, computed)
    }

    /// The candidate concat groups (GraphRowSchedule.groups) worth one shared storage, and which
    /// virtual concats then read in place: a group's storage holds every member at the most rows any
    /// member holds, so it is kept only where that costs at most 1.25 times the members' own rings.
    /// (RRDBNet: the dense blocks inside an RRDB are kept; the first of each RRDB, whose input is
    /// also held for the RRDB's skip, 15 rows, or the trunk's, ~350, is not, and gathers its windows.)
    func concatStorage(_ schedule: GraphRowSchedule, ringRows: [Int]) -> (groups: [[Int]], grouped: [Bool]) {
        var kept: [[Int]] = [], grouped = schedule.grouped
        for members in schedule.groups {
            let channels = members.map { shapes[$0].channels }
            let most = members.map { ringRows[$0] }.max() ?? 0
            let own = zip(members, channels).reduce(0) { $0 + ringRows[$1.0] * $1.1 }
            if 4 * most * channels.reduce(0, +) <= 5 * own {
                kept.append(members)
            } else {
                for k in grouped.indices where grouped[k] && Set(nodes[k].inputs).isSubset(of: Set(members)) { grouped[k] = false }
            }
        }
        return (kept, grouped)
    }

    /// Bytes of the streamed run at its peak: every value's ring (the most rows it holds at once,
    /// `pipelineRingRows`; the last node's two passes' rows), the image's, the reflection's tail,
    /// and the scratch of the largest convolution step (its gathered input window and its output
    /// rows). The bands asked for are the caller's memory, not counted here (the pipeline holds
    /// none: GraphPipeline.outputRows copies rows out after each pass). `fetchRows`: image rows per
    /// pass, the run's default for the width (`fetchRows(forWidth:)`) unless told.
    public func pipelineBytes(height: Int, width: Int, fetchRows: Int? = nil) -> Int {
        if streamedGraph !== self { return streamedGraph.pipelineBytes(height: height, width: width, fetchRows: fetchRows) }
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        let fetchStep = max(1, fetchRows ?? self.fetchRows(forWidth: width))
        let rings = pipelineRingRows(paddedHeight: paddedH, fetchRows: fetchStep, rowAlignment: 1)
        let rowFloats = shapes.map { $0.channels * $0.cols.of(paddedW) }
        let last = nodes.count - 1
        var floats = rings.image * channels.count * paddedW + fetchStep * channels.count * paddedW
        let schedule = GraphRowSchedule(model: self, paddedHeight: paddedH, fetchRows: fetchStep)
        var capacity = rings.nodes
        for members in concatStorage(schedule, ringRows: rings.nodes).groups {   // the most rows any member holds, for all
            let most = members.map { rings.nodes[$0] }.max() ?? 0
            for v in members { capacity[v] = most }
        }
        for k in 0..<last { floats += capacity[k] * rowFloats[k] }
        // The last node's ring: a pass's rows and those the band before computed past its end (at
        // most a pass's); the band itself is the caller's (MemoryEstimate counts it).
        floats += 2 * rings.nodes[last] * rowFloats[last]
        // The largest conv step: the window its output rows read (all input rows, whatever the
        // alignment of the step) and those output rows.
        var step = 0
        for (k, node) in nodes.enumerated() {
            guard case .conv = node.op else { continue }
            let m = schedule.sweepRows[k], v = node.inputs[0]   // the most rows of one call
            let inRows = (0..<8).map { schedule.rawInputRows(of: k, forOutput: (1 << 20) + $0 ..< (1 << 20) + $0 + m).count }.max() ?? 0
            let inFloats = v == GraphNode.image ? channels.count * paddedW : rowFloats[v]
            step = max(step, min(inRows, schedule.rowCount(v)) * inFloats + m * rowFloats[k])
        }
        return 4 * (floats + step)
    }

    /// Bytes of the whole-image run (`networkOutput`, test-time augmentation) at its peak: the
    /// padded input and the values alive when each node's output is made.
    public func wholeImageBytes(height: Int, width: Int) -> Int {
        let paddedH = GraphModel.roundUp(height, sizeMultiple), paddedW = GraphModel.roundUp(width, sizeMultiple)
        let size = shapes.map { $0.channels * $0.rows.of(paddedH) * $0.cols.of(paddedW) }
        var live = channels.count * paddedH * paddedW, peak = live
        for k in nodes.indices {
            live += size[k]
            peak = max(peak, live)
            for v in distinctInputs[k] where v != GraphNode.image && lastUse[v] == k { live -= size[v] }
        }
        return 4 * peak
    }
}
