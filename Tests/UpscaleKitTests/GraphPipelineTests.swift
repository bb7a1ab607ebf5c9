// The streamed graph run against the whole-image run (GraphModel.networkOutput): the same bits for
// every band of output rows, image size and thread count, and every node's rows computed exactly
// once (the work of one whole-image pass).
import Foundation
import Testing
@testable import UpscaleKit

/// The pipeline's output for `input`, asked for in bands of `band` output rows (the last shorter),
/// fetching `fetchRows` image rows per pass: the model's least (`streamFetchRows`: many passes,
/// rings that wrap) unless told; a run's default for the width is `fetchRows(forWidth:)`.
func streamed(_ model: GraphModel, _ input: Tensor, band: Int, threads: Int, alignment: Int = 1,
              fetchRows: Int? = nil) throws -> (Tensor, GraphPipeline) {
    let (h, w) = (input.shape[2], input.shape[3])
    let pipeline = GraphPipeline(model: model, height: h, width: w, threads: threads, fetchRows: fetchRows ?? model.streamFetchRows,
                                 rowAlignment: alignment)
    var fetched = 0
    var parts: [Tensor] = []
    let outH = model.scale * h
    for start in stride(from: 0, to: outH, by: band) {
        parts.append(try pipeline.outputRows(start..<min(outH, start + band)) { rows in
            #expect(rows.lowerBound == fetched, "image rows fetched out of order")
            fetched = rows.upperBound
            return Model.rows(rows, of: input)
        })
    }
    #expect(fetched == h, "every image row fetched once")
    let c = parts[0].shape[1], outW = parts[0].shape[3]
    var data = [Float]()
    for ch in 0..<c {
        for part in parts { data += part.data[(ch * part.shape[2] * outW)..<((ch + 1) * part.shape[2] * outW)] }
    }
    return (Tensor(shape: [1, c, outH, outW], data: data), pipeline)
}

@Suite struct GraphPipelineTests {
    @Test(arguments: [(6, 8), (5, 7), (1, 1), (9, 4), (2, 13)])
    func everyBandGivesTheWholeImagesBits(h: Int, w: Int) throws {
        let model = try everyOpGraph(seed: 41)
        var rng = SeededRandom(seed: UInt64(h * 100 + w))
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let whole = try model.networkOutput(input, threads: 1)
        for (band, threads) in [(1, 1), (2, 2), (3, 1), (7, 2), (2 * h, 1)] {
          for fetch in [model.streamFetchRows, model.fetchRows(forWidth: w)] {
            let (got, pipeline) = try streamed(model, input, band: band, threads: threads, fetchRows: fetch)
            #expect(got == whole, "\(h)×\(w), band \(band), threads \(threads), fetch \(fetch): bits differ from the whole-image run")
            // Rows are computed in ranges that only move down (GraphRowSchedule.finished), so no
            // row twice: at most each node's rows of the padded map (the work of one whole pass).
            let padded = GraphModel.roundUp(h, model.sizeMultiple)
            let full = model.shapes.map { $0.rows.of(padded) }
            #expect(zip(pipeline.rowsComputed, full).allSatisfy { $0 <= $1 } && pipeline.rowsComputed.last! >= 2 * h)
            if padded == h { #expect(pipeline.rowsComputed.last == full.last) }
          }
        }
    }

    @Test(arguments: ["rrdb_x2.safetensors", "span_x4.pth"])
    func importedModelsStreamBitIdentically(file: String) throws {
        let model = try GraphFixtures.graph(file)
        let input = try GraphFixtures.tensor(String(file.prefix(7)), "input")
        let whole = try model.networkOutput(input, threads: 2)
        for band in [1, 5, 64] {
            for fetch in [model.streamFetchRows, model.fetchRows(forWidth: input.shape[3])] {
                let (got, _) = try streamed(model, input, band: band, threads: 2, fetchRows: fetch)
                #expect(got == whole, "\(file), band \(band), fetch \(fetch)")
            }
        }
    }

    @Test func deepChainHoldsFewRowsPerNode() throws {
        // 24 stacked 3×3 convs: a stack's halo would grow with depth; the pipeline keeps each
        // value's rows only while its reader needs them (about 3 rows each at one row per band).
        var rng = SeededRandom(seed: 51)
        var nodes: [GraphNode] = []
        for i in 0..<24 {
            nodes.append(GraphNode(name: "c\(i)", op: graphConv(&rng, i == 0 ? 3 : 4, i == 23 ? 3 : 4, activation: i == 23 ? .none : .relu),
                                   inputs: [i == 0 ? GraphNode.image : i - 1]))
        }
        let model = try GraphModel(nodes: nodes, scale: 1, channels: .rgb, residual: .none, metadata: [:])
        let (h, w) = (60, 10)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let (got, pipeline) = try streamed(model, input, band: 1, threads: 1)
        #expect(got == (try model.networkOutput(input, threads: 1)))
        #expect(pipeline.rowsComputed == [Int](repeating: h, count: 24))
        // At most 4 rows of 4 channels per value and of the image (the value being computed: 1 new row).
        #expect(pipeline.peakFloats <= 25 * 4 * 4 * w, "peak \(pipeline.peakFloats) floats")
    }

    @Test(arguments: [(7, 9, 5), (6, 8, 3), (12, 5, 40)])
    func memoryEstimateReplaysThePipeline(h: Int, w: Int, band: Int) throws {
        let model = try everyOpGraph(seed: 61)
        var rng = SeededRandom(seed: 62)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let bands = stride(from: 0, to: 2 * h, by: band).map { $0..<min(2 * h, $0 + band) }
        let (_, least) = try streamed(model, input, band: band, threads: 1)
        #expect(model.pipelinePeakFloats(height: h, width: w, bands: bands, fetchRows: model.streamFetchRows) == least.peakFloats)
        // The run's default for the width (more rows a pass on these narrow images), on both sides.
        let pipeline = GraphPipeline(model: model, height: h, width: w, threads: 1)
        for b in bands { _ = try pipeline.outputRows(b) { Model.rows($0, of: input) } }
        #expect(pipeline.fetchRows == model.fetchRows(forWidth: w) && pipeline.fetchRows > model.streamFetchRows)
        #expect(model.pipelinePeakFloats(height: h, width: w, bands: bands) == pipeline.peakFloats)
    }

    @Test func narrowImagesFetchMoreRowsPerPass() throws {
        // Passes of about GraphModel.passPixels pixels a row block on narrow maps (at most 16 rows),
        // the model's own least from there up (1920 included), whole size multiples.
        let rrdb = try GraphFixtures.graph("rrdb_x2.safetensors")   // size multiple 2 (pixel unshuffle)
        #expect([64, 128, 256, 1000, 1024, 1280, 1920, 4000].map { rrdb.fetchRows(forWidth: $0) } == [16, 16, 8, 2, 2, 2, 2, 2])
        let span = try GraphFixtures.graph("span_x4.pth")   // size multiple 1
        #expect([1, 127, 128, 256, 682, 1023, 1024, 1920].map { span.fetchRows(forWidth: $0) } == [16, 16, 16, 8, 3, 2, 2, 1])
    }

    @Test(arguments: ["rrdb_x2.safetensors", "span_x4.pth"])
    func graphModelRunsThroughTheUpscaleLoop(file: String) throws {
        // Model(graph:) in the upscale loop: the network's output clamped (an rgb model without
        // residual), for any band, tile and thread setting, and under TTA the mean of 8 flips.
        let graph = try GraphFixtures.graph(file)
        let model = try Model(graph: graph)
        let input = try GraphFixtures.tensor(String(file.prefix(7)), "input")
        let expected = try graph.networkOutput(input, threads: 1).data.map { min(max($0, 0), 1) }
        for (tile, threads) in [(3, 1), (256, 2), (37, 2)] {
            var options = RunOptions()
            options.tileSize = tile
            options.threads = threads
            let (got, _) = try model.upscale(color: input, alpha: nil, options: options)
            #expect(got.data == expected, "\(file), tile \(tile), threads \(threads)")
        }
        var tta = RunOptions()
        tta.tta = true
        let (averaged, _) = try model.upscale(color: input, alpha: nil, options: tta)
        // The oracle: the 8 flips/transposes written out index by index, each run whole, mapped back, averaged.
        func transformed(_ t: Tensor, _ k: Int, inverse: Bool) -> Tensor {
            let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
            let transpose = k & 4 != 0
            let (oh, ow) = transpose ? (w, h) : (h, w)
            var out = [Float](repeating: 0, count: t.count)
            for ch in 0..<c { for y in 0..<oh { for x in 0..<ow {
                // forward: transpose, then flip rows, then flip columns; inverse: the reverse order
                var (sy, sx) = (y, x)
                if !inverse {
                    if k & 1 != 0 { sx = ow - 1 - sx }
                    if k & 2 != 0 { sy = oh - 1 - sy }
                    if transpose { (sy, sx) = (sx, sy) }
                } else {
                    if transpose { (sy, sx) = (sx, sy) }
                    if k & 1 != 0 { sx = w - 1 - sx }
                    if k & 2 != 0 { sy = h - 1 - sy }
                }
                out[(ch * oh + y) * ow + x] = t.data[(ch * h + sy) * w + sx]
            } } }
            return Tensor(shape: [1, c, oh, ow], data: out)
        }
        var sum = [Float](repeating: 0, count: expected.count)
        for k in 0..<8 {
            let y = transformed(try graph.networkOutput(transformed(input, k, inverse: false), threads: 1), k, inverse: true)
            for i in sum.indices { sum[i] += y.data[i] }
        }
        let mean = sum.map { min(max($0 / 8, 0), 1) }
        let check = allClose(averaged.data, mean, rtol: 0, atol: 1e-6)
        #expect(averaged.shape == [1, 3, graph.scale * input.shape[2], graph.scale * input.shape[3]] && check.ok,
                "TTA: max |diff| \(check.maxDiff)")
        // Saved and loaded as a model file, it is a graph again.
        let reread = try Model(bytes: try model.serialized(), name: "m.bin")
        #expect(reread.graph?.nodes.count == graph.nodes.count && reread.parameterCount == graph.parameterCount)
    }

    @Test(arguments: [2, 4, 6])
    func alignedRowBlocksGiveTheSameBits(alignment: Int) throws {
        // Rows in blocks starting at multiples of `alignment` (what Winograd tiles will need):
        // the same bits as the whole image, every row still once.
        for file in ["rrdb_x2.safetensors", "span_x4.pth"] {
            let model = try GraphFixtures.graph(file)
            let input = try GraphFixtures.tensor(String(file.prefix(7)), "input")
            let whole = try model.networkOutput(input, threads: 1)
            for band in [1, 9] {
                let (got, pipeline) = try streamed(model, input, band: band, threads: 2, alignment: alignment)
                #expect(got == whole, "\(file), alignment \(alignment), band \(band)")
                let full = model.shapes.map { $0.rows.of(GraphModel.roundUp(input.shape[2], model.sizeMultiple)) }
                #expect(zip(pipeline.rowsComputed, full).allSatisfy { $0 <= $1 })
            }
        }
    }

    @Test func scheduleReleasesAlignedBlocksOnly() throws {
        // The integer schedule alone: with alignment 4, every range a node is given starts at a
        // multiple of 4 and ends at one or at the map's end, and the passes finish every row.
        let model = try GraphFixtures.graph("rrdb_x2.safetensors")
        let height = 18
        var schedule = GraphRowSchedule(model: model, paddedHeight: height, fetchRows: 2, rowAlignment: 4)
        while schedule.done.last! < schedule.rows.last! {
            schedule.startPass()
            schedule.fetched(upTo: min(height, schedule.imageFetched + 2))
            for k in 0..<model.nodes.count {
                let r = schedule.ready(k)
                guard !r.isEmpty else { continue }
                #expect(r.lowerBound % 4 == 0 && (r.upperBound % 4 == 0 || r.upperBound == schedule.rows[k]),
                        "node \(model.nodes[k].name): \(r)")
                schedule.finished(k, upTo: r.upperBound)
            }
        }
        #expect(schedule.done == schedule.rows)
    }
}

@Suite struct GraphPipelineRingTests {
    /// A ring of 2 channels × 3 floats whose row r of channel c holds 10·r + c (all 3 floats).
    func filled(_ ring: RowRing, rows: Range<Int>) {
        ring.reserve(rows.count)
        for r in rows { for c in 0..<ring.channels { ring.row(c, r).update(repeating: Float(10 * r + c), count: ring.width) } }
        ring.added(rows.count)
    }

    func holds(_ ring: RowRing, _ rows: Range<Int>) -> Bool {
        rows.allSatisfy { r in (0..<ring.channels).allSatisfy { c in (0..<ring.width).allSatisfy { ring.row(c, r)[$0] == Float(10 * r + c) } } }
    }

    @Test func rowsWrapAroundAndGrowWithoutLosingValues() {
        let ring = RowRing(channels: 2, width: 3, capacity: 4)
        filled(ring, rows: 0..<4)
        ring.drop(below: 2)
        filled(ring, rows: 4..<6)   // rows 4, 5 reuse the slots of rows 0, 1
        #expect(ring.origin == 2 && ring.end == 6 && ring.capacity == 4 && holds(ring, 2..<6))
        filled(ring, rows: 6..<9)   // 7 rows held: the storage grows, the held rows move
        #expect(ring.capacity >= 7 && holds(ring, 2..<9))
        ring.drop(below: 100)       // dropping past the end keeps nothing, and never moves the end
        #expect(ring.rows == 0 && ring.end == 9)
    }

    @Test(arguments: [(150, 9, 2), (150, 9, 3), (257, 6, 2)])
    func wideRowsSplitIntoColumnSlicesGiveTheSameBits(w: Int, h: Int, threads: Int) throws {
        // At these widths a conv's output columns are split over the threads (slices of whole
        // vectors, the last one partial); rings wrap, so convolutions read their rows both one after
        // another and wrapping around the ring's last slot.
        let every = try everyOpGraph(seed: 71)
        var rng = SeededRandom(seed: UInt64(w * 10 + h))
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        for model in [every, try GraphFixtures.graph("rrdb_x2.safetensors"), try GraphFixtures.graph("span_x4.pth")] {
            let whole = try model.networkOutput(input, threads: 1)
            for band in [1, 7] {
                let (got, pipeline) = try streamed(model, input, band: band, threads: threads)
                #expect(got == whole, "\(w)×\(h), band \(band), threads \(threads): bits differ from the whole-image run")
                #expect(pipeline.convReads.inPlace > 0 && pipeline.convReads.wrapped > 0, "\(pipeline.convReads)")
                let estimate = model.pipelineBytes(height: h, width: w, fetchRows: pipeline.fetchRows)
                #expect(pipeline.allocatedFloats * 4 <= estimate, "allocated \(pipeline.allocatedFloats) floats, estimate \(estimate) bytes")
            }
        }
    }
}

@Suite struct GraphWorkFactorTests {
    @Test(arguments: [(9, 11), (6, 150), (1, 3)])
    func reportedWorkIsThePipelinesRowCount(h: Int, w: Int) throws {
        // What --verbose reports (the schedule replayed on integers) is what the pipeline computed:
        // every convolution's rows of the padded map at most once.
        for model in [try everyOpGraph(seed: 91), try GraphFixtures.graph("rrdb_x2.safetensors")] {
            var rng = SeededRandom(seed: 92)
            let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
            let (_, pipeline) = try streamed(model, input, band: 4, threads: 2, fetchRows: model.fetchRows(forWidth: w))   // as a run
            let work = model.pipelineWork(height: h, width: w)
            // Rows below the image that no output row reads are skipped: 1 at most, exactly 1 for a
            // height the model's size multiple divides.
            #expect(work.rowsComputed == pipeline.rowsComputed && work.factor == pipeline.workFactor && work.factor <= 1
                    && (h % model.sizeMultiple != 0 || work.factor == 1),
                    "\(h)×\(w): replay \(work.rowsComputed), pipeline \(pipeline.rowsComputed), factor \(work.factor)")
            // Rows counted twice for one convolution would show: the factor weighs rows by multiply-adds.
            var twice = pipeline.rowsComputed
            let conv = try #require(model.nodes.firstIndex { if case .conv = $0.op { return true }; return false })
            twice[conv] *= 2
            #expect(model.workFactor(rowsComputed: twice, paddedHeight: GraphModel.roundUp(h, model.sizeMultiple)) > 1)
        }
    }
}

@Suite struct GraphProgressTests {
    @Test func ttaAndWholeImageRunsCountEveryTile() throws {
        // A graph model ticks the same tiles a stack would: 8 images of them under TTA, each
        // image's share as its rows are done, ending at the total (it ended at 8 before).
        let model = try Model(graph: try GraphFixtures.graph("rrdb_x2.safetensors"))
        var rng = SeededRandom(seed: 93)
        let x = Tensor(shape: [1, 3, 10, 9], data: rng.floats(270, 0...1))
        final class Log: @unchecked Sendable { var calls: [(Int, Int)] = [] }   // written by the calling thread only
        let log = Log()
        var options = RunOptions()
        options.tileSize = 3   // 4 × 3 tiles
        options.threads = 2
        options.progress = { done, total in log.calls.append((done, total)) }
        _ = try model.stackOutput(x, options: options)
        #expect(log.calls.map(\.0) == Array(1...12) && log.calls.allSatisfy { $0.1 == 12 }, "\(log.calls)")
        options.tta = true
        log.calls = []
        _ = try model.upscale(color: x, alpha: nil, options: options)
        #expect(log.calls.map(\.0) == Array(1...96) && log.calls.allSatisfy { $0.1 == 96 }, "\(log.calls.suffix(3))")
    }
}

@Suite struct GraphConcatGroupTests {
    @Test func concatPartsShareOneStorageOnlyWhereItCostsLittleMemory() throws {
        // RRDBNet's dense blocks: cat(x, x1), cat(x, x1, x2), … are prefixes of one list, stored side by
        // side; each block's 4 concats read in place (the fixture: 2 RRDBs of 3 dense blocks each).
        let model = try GraphFixtures.graph("rrdb_x2.safetensors")
        let schedule = GraphRowSchedule(model: model, paddedHeight: 10, fetchRows: 2)
        #expect(schedule.groups.count == 6 && schedule.groups.allSatisfy { $0.count == 5 }, "\(schedule.groups)")
        let concats = model.nodes.indices.filter { if case .concat = model.nodes[$0].op { return true }; return false }
        #expect(concats.count == 24 && concats.allSatisfy { schedule.virtual[$0] && schedule.grouped[$0] })
        // Shared only where it costs at most 1.25 times the members' own rings: a dense block's input
        // is held for its residual (and the first block's for the RRDB's skip), longer than x1…x4, so
        // none is shared here; their concats gather their windows.
        let rows = model.pipelineRingRows(paddedHeight: 40, fetchRows: 2, rowAlignment: 1).nodes
        let shared = model.concatStorage(GraphRowSchedule(model: model, paddedHeight: 40, fetchRows: 2), ringRows: rows)
        #expect(shared.groups.isEmpty && !concats.contains { shared.grouped[$0] }, "\(shared.groups)")
        // A concat whose parts are not a prefix of its group's list is gathered: cat(x1, x) after cat(x, x1).
        var rng = SeededRandom(seed: 95)
        let nodes = [
            GraphNode(name: "a", op: graphConv(&rng, 3, 4, activation: .relu), inputs: [GraphNode.image]),
            GraphNode(name: "b", op: graphConv(&rng, 4, 4, activation: .relu), inputs: [0]),
            GraphNode(name: "ab", op: .concat, inputs: [0, 1]),
            GraphNode(name: "c", op: graphConv(&rng, 8, 4, activation: .none), inputs: [2]),
            GraphNode(name: "ba", op: .concat, inputs: [1, 0]),
            GraphNode(name: "d", op: graphConv(&rng, 8, 4, activation: .none), inputs: [4]),
            GraphNode(name: "sum", op: .add(scales: [1, 1]), inputs: [3, 5]),
            GraphNode(name: "out", op: graphConv(&rng, 4, 3, activation: .none), inputs: [6]),
        ]
        let swapped = try GraphModel(nodes: nodes, scale: 1, channels: .rgb, residual: .none, metadata: [:])
        let plan = GraphRowSchedule(model: swapped, paddedHeight: 8, fetchRows: 1)
        #expect(plan.groups == [[0, 1]] && plan.grouped[2] && !plan.grouped[4] && plan.virtual[4])
        let kept = swapped.concatStorage(plan, ringRows: swapped.pipelineRingRows(paddedHeight: 8, fetchRows: 1, rowAlignment: 1).nodes)
        #expect(kept.groups == [[0, 1]] && kept.grouped[2] && !kept.grouped[4], "a and b hold about the same rows: \(kept.groups)")
        let input = Tensor(shape: [1, 3, 8, 140], data: rng.floats(3 * 8 * 140, 0...1))
        let whole = try swapped.networkOutput(input, threads: 1)
        for threads in [1, 2] {
            #expect(try streamed(swapped, input, band: 3, threads: threads).0 == whole, "threads \(threads)")
        }
    }
}

@Suite struct GraphRingSizeTests {
    @Test func denseBlockOutputsAreAddedInPlace() throws {
        // RRDBNet: each dense block's conv5 is read only by its residual add (conv5·0.2 + x), and the
        // last block's add only by the RRDB's (· 0.2 + x): their rows live in the ring of the add
        // at the chain's end (named by the importer: body.i.rdbN, body.i), and hold no ring of
        // their own; the streamed run still gives the whole-image run's bits.
        let model = try GraphFixtures.graph("rrdb_x2.safetensors")
        let schedule = GraphRowSchedule(model: model, paddedHeight: 40, fetchRows: 2)
        let index = Dictionary(uniqueKeysWithValues: model.nodes.enumerated().map { ($1.name, $0) })
        let rows = model.pipelineRingRows(paddedHeight: 40, fetchRows: 2, rowAlignment: 1).nodes
        for i in 0..<2 {
            for n in 1...3 {
                let conv5 = try #require(index["body.\(i).rdb\(n).conv5"]), add = try #require(index["body.\(i).rdb\(n)"])
                let end = try #require(index[n == 3 ? "body.\(i)" : "body.\(i).rdb\(n)"])
                #expect(schedule.host[conv5] == end && schedule.host[add] == end && schedule.host[end] == end,
                        "body.\(i).rdb\(n): hosts \(schedule.host[conv5]), \(schedule.host[add])")
                #expect(rows[conv5] == 0 && schedule.heads[conv5] && !schedule.heads[add])
            }
        }
        // Nothing else: the trunk's add reads its convolution second (ElementwiseOps.add would
        // overwrite it before reading it), so conv_body keeps its ring.
        let aliased = model.nodes.indices.filter { schedule.host[$0] != $0 }
        #expect(aliased.count == 2 * 4, "\(aliased.map { model.nodes[$0].name })")
        let input = try GraphFixtures.tensor("rrdb_x2", "input")
        let whole = try model.networkOutput(input, threads: 1)
        for (band, threads) in [(1, 1), (7, 2)] {
            #expect(try streamed(model, input, band: band, threads: threads).0 == whole, "band \(band), threads \(threads)")
        }
    }

    @Test func upsampledTailHoldsASweepsRowsNotAPasss() throws {
        // RRDBNet ×4 at 1920 px (one image row a pass): each ×4 map's pass of 16 rows comes in
        // sweeps of 4, which its 3×3 reader takes before the next, so a ×4 value holds one sweep's
        // rows and the reader's halo (2), where it held a pass's and the halo (18 of 64 channels ×
        // 7680 px, 35 MB each, on the 23-block network).
        let model = try GraphFixtures.graph("rrdb_x4_new.pth")
        let fetch = model.fetchRows(forWidth: 1920)
        let schedule = GraphRowSchedule(model: model, paddedHeight: 40, fetchRows: fetch)
        let rows = model.pipelineRingRows(paddedHeight: 40, fetchRows: fetch, rowAlignment: 1).nodes
        let last = model.nodes.count - 1
        let tail = model.nodes.indices.filter { model.shapes[$0].rows == SizeRatio(4, 1) && $0 != last }
        #expect(!tail.isEmpty)
        for k in tail {
            #expect(schedule.sweepRows[k] * 4 == schedule.passRows[k] && rows[k] <= schedule.sweepRows[k] + 2,
                    "\(model.nodes[k].name): \(rows[k]) rows, sweep \(schedule.sweepRows[k]), pass \(schedule.passRows[k])")
        }
        let input = try GraphFixtures.tensor("rrdb_x4", "input")
        let whole = try model.networkOutput(input, threads: 1)
        #expect(try streamed(model, input, band: 5, threads: 2, fetchRows: fetch).0 == whole)
    }

    @Test func lastRingHoldsAPassNotTheBand() throws {
        // The output rows are copied out of the last node's ring after each pass: asked for in one
        // band of the whole image, the ring holds at most two passes' rows (a pass's, and those the
        // band before computed past its end), as the estimate counts, not the band's.
        let model = try GraphFixtures.graph("rrdb_x2.safetensors")
        var rng = SeededRandom(seed: 97)
        let (h, w) = (24, 6)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let (got, pipeline) = try streamed(model, input, band: 2 * h, threads: 1)
        #expect(got == (try model.networkOutput(input, threads: 1)))
        let pass = model.pipelineRingRows(paddedHeight: h, fetchRows: pipeline.fetchRows, rowAlignment: 1).nodes[model.nodes.count - 1]
        #expect(pipeline.outputRingCapacity <= 2 * pass && 2 * pass < 2 * h, "capacity \(pipeline.outputRingCapacity), pass \(pass)")
        let estimate = model.pipelineBytes(height: h, width: w, fetchRows: pipeline.fetchRows)
        #expect(pipeline.allocatedFloats * 4 <= estimate, "allocated \(pipeline.allocatedFloats) floats, estimate \(estimate) bytes")
    }
}
