// Recomputed copies (Pipeline/GraphModel+Recompute.swift): a long skip from a cheap convolution
// is read from a copy computed late, so the run holds the convolution's narrow input over the lag
// instead of its wide output, with the whole-image run's bits and the copy's work counted.
import Testing
@testable import UpscaleKit

@Suite struct GraphRecomputeTests {
    /// image (3) → head: conv 3 → 8 → `depth` convs 8 → 8 → add(head, body) → conv 8 → 3: the
    /// trunk of an RRDBNet, whose add reads the head `depth` + 1 rows after the body's first conv.
    func trunk(depth: Int, headKernel: Int = 3, seed: UInt64) throws -> GraphModel {
        var rng = SeededRandom(seed: seed)
        var nodes = [GraphNode(name: "head", op: graphConv(&rng, 3, 8, k: headKernel), inputs: [GraphNode.image])]
        for i in 0..<depth {
            nodes.append(GraphNode(name: "body.\(i)", op: graphConv(&rng, 8, 8, activation: .leakyReLU(0.2)), inputs: [i]))
        }
        nodes.append(GraphNode(name: "trunk", op: .add(scales: [1, 1]), inputs: [0, depth]))
        nodes.append(GraphNode(name: "last", op: graphConv(&rng, 8, 3), inputs: [depth + 1]))
        return try GraphModel(nodes: nodes, scale: 1, channels: .rgb, residual: .none, metadata: [:])
    }

    @Test func longSkipReadsARecomputedCopy() throws {
        let depth = 40
        let model = try trunk(depth: depth, seed: 71)
        let run = model.streamedGraph
        // The copy of the head goes before the trunk's add, which reads it; the body reads the head.
        #expect(run !== model && run.nodes.count == model.nodes.count + 1)
        let copy = depth + 1
        #expect(run.copyOf[copy] == 0 && run.copyOf.compactMap { $0 }.count == 1 && run.nodes[copy].inputs == [GraphNode.image])
        #expect(run.nodes[copy + 1].inputs == [copy, depth] && run.nodes[1].inputs == [0])
        // The head's 8 channels are no longer held over the lag (more than `depth` rows in the graph
        // as loaded); the image's 3 are, and the trunk's add holds the copy's few rows.
        let own = model.pipelineRingRows(paddedHeight: 70, fetchRows: 1, rowAlignment: 1)
        let rings = run.pipelineRingRows(paddedHeight: 70, fetchRows: 1, rowAlignment: 1)
        #expect(own.nodes[0] > depth && own.image <= 4, "as loaded: head \(own.nodes[0]), image \(own.image) rows")
        #expect(rings.nodes[0] <= 4 && rings.image > depth && rings.nodes[copy] == 0 && rings.nodes[copy + 1] <= 4,
                "streamed: head \(rings.nodes[0]), image \(rings.image), trunk \(rings.nodes[copy + 1]) rows")
        // The whole-image run of the model as loaded is the oracle.
        var rng = SeededRandom(seed: 72)
        let (h, w) = (70, 9)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let whole = try model.networkOutput(input, threads: 1)
        for (band, threads) in [(1, 1), (7, 2), (h, 1)] {
            let (got, pipeline) = try streamed(model, input, band: band, threads: threads)
            #expect(got == whole, "band \(band), threads \(threads)")
            // Each row once, the head's twice (the copy), and the work factor says so: 1 + the head's share.
            #expect(pipeline.rowsComputed == [Int](repeating: h, count: run.nodes.count))
            let head = Double(3 * 8 * 9), all = head + Double(depth * 8 * 8 * 9 + 8 * 3 * 9)
            #expect(abs(pipeline.workFactor - (all + head) / all) < 1e-12, "factor \(pipeline.workFactor)")
            #expect(model.pipelineWork(height: h, width: w).rowsComputed == pipeline.rowsComputed)
            // The replay that sizes the estimate follows the run with its copy.
            let bands = stride(from: 0, to: h, by: band).map { $0..<min(h, $0 + band) }
            #expect(model.pipelinePeakFloats(height: h, width: w, bands: bands, fetchRows: model.streamFetchRows) == pipeline.peakFloats)
            #expect(pipeline.allocatedFloats * 4 <= model.pipelineBytes(height: h, width: w, fetchRows: pipeline.fetchRows))
        }
    }

    @Test func nearReadersAndCostlyConvolutionsAreNotCopied() throws {
        // A skip of 8 rows is not far (GraphModel.farLag); a 7×7 head costs more than the copies'
        // share of the work (GraphModel.copyWorkShare) over 40 layers.
        let near = try trunk(depth: 8, seed: 73)
        #expect(near.streamedGraph === near)
        let costly = try trunk(depth: 40, headKernel: 7, seed: 74)
        #expect(costly.streamedGraph === costly)
        var rng = SeededRandom(seed: 75)
        let input = Tensor(shape: [1, 3, 50, 6], data: rng.floats(3 * 50 * 6, 0...1))
        let (got, pipeline) = try streamed(costly, input, band: 5, threads: 1)
        #expect(got == (try costly.networkOutput(input, threads: 1)) && pipeline.workFactor == 1)
    }
}
