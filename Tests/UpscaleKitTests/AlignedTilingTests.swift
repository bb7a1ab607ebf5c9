import Foundation
import Testing
@testable import UpscaleKit

/// Layers whose outputs are computed in aligned blocks (Winograd tiles, AxisGeometry.alignment):
/// the input ranges every runner reads, and the halo they add up to.
@Suite struct AlignedTilingTests {
    /// The inputs that reach the aligned blocks holding `o0 ..< o1`, enumerated directly.
    static func bruteInputs(_ g: AxisGeometry, _ o0: Int, _ o1: Int) -> [Int] {
        let first = Int((Double(o0) / Double(g.alignment)).rounded(.down)) * g.alignment
        let end = Int((Double(o1) / Double(g.alignment)).rounded(.up)) * g.alignment
        return (-60..<60).filter { i in (0..<g.kernel).contains { j in (first..<end).contains(i * g.stride - g.padding + j * g.dilation) } }
    }

    @Test(arguments: [1, 2, 4, 6])
    func alignedInputRangeIsTheHullOfWhatItsBlocksRead(alignment: Int) {
        for base in [AxisGeometry(kernel: 3, padding: 1), AxisGeometry(kernel: 3), AxisGeometry(kernel: 3, padding: 2),
                     AxisGeometry(kernel: 1), AxisGeometry(kernel: 4, stride: 2, padding: 1),
                     AxisGeometry(kernel: 5, stride: 3, padding: 2, outputPadding: 1)] {
            var g = base
            g.alignment = alignment
            for o0 in -7..<13 {
                for o1 in (o0 + 1)..<(o0 + 9) {
                    let brute = Self.bruteInputs(g, o0, o1)
                    let hull = brute.isEmpty ? [] : Array(brute.first!...brute.last!)
                    #expect(Array(g.inputRange(forOutput: o0..<o1)) == hull, "\(g) outputs \(o0)..<\(o1)")
                }
            }
            // Alignment 1 is the layer's own reach; an empty output range reads as before.
            #expect(g.inputRange(forOutput: 5..<5) == base.inputRange(forOutput: 5..<5))
        }
    }

    @Test func layerLengthsFollowEachLayer() {
        let layers = [AxisGeometry(kernel: 3, padding: 1, alignment: 4), AxisGeometry(kernel: 4, stride: 2, padding: 1),
                      AxisGeometry(kernel: 3)]
        #expect(AxisGeometry.lengths(10, through: layers) == [10, 10, 20, 22])
        #expect(AxisGeometry.lengths(7, through: []) == [7])
    }

    /// Stacks with aligned layers at several strides: the halo is the most context any input
    /// pixel's block reads, measured on one-pixel tiles of a long axis (TilePlan's own ranges).
    @Test(arguments: [(4, [1, 1, 1]), (4, [2, 1, 1]), (6, [1, 2, 1]), (4, [1, 1, 3]), (2, [1, 2, 2])])
    func haloIsTheWidestContextOfAnyAlignedBlock(alignment: Int, strides: [Int]) {
        let layers = strides.enumerated().map { l, s in
            s == 1 ? AxisGeometry(kernel: 3, padding: 1, alignment: l == 1 ? 1 : alignment)
                   : AxisGeometry(kernel: 2 * s, stride: s, padding: s / 2)
        }
        let length = 200
        let plan = TilePlan(height: length, width: 1, tileSize: 1, rows: layers, cols: layers.map { _ in AxisGeometry(kernel: 1) })
        var most = 0
        for (t, ranges) in plan.rowPlans.enumerated() where t > 60 && t < length - 60 {
            most = max(most, t - ranges[0].lowerBound, ranges[0].upperBound - (t + 1))
        }
        #expect(TilePlan.halo(rows: layers, cols: layers) == most)
        var unaligned = layers
        for l in unaligned.indices { unaligned[l].alignment = 1 }
        #expect(TilePlan.halo(rows: unaligned, cols: unaligned) < most, "alignment widens the halo")
    }

    @Test func graphModelAlignsRowBlocksToItsLayers() throws {
        // A graph's row blocks follow the least common multiple of its conv layers' alignments;
        // without Winograd layers (ConvTransposeWinograd says which) that is 1.
        var rng = SeededRandom(seed: 5)
        let wide = ModelLayer(weight: Tensor(shape: [64, 64, 3, 3], data: rng.floats(64 * 64 * 9, -0.05...0.05)), bias: nil, padding: (1, 1))
        let into = ModelLayer(weight: Tensor(shape: [1, 64, 3, 3], data: rng.floats(64 * 9, -0.1...0.1)), bias: nil, padding: (1, 1))
        let back = ModelLayer(weight: Tensor(shape: [64, 1, 3, 3], data: rng.floats(64 * 9, -0.05...0.05)), bias: nil, padding: (1, 1))
        let nodes = [GraphNode(name: "into", op: .conv(into), inputs: [GraphNode.image]),
                     GraphNode(name: "wide", op: .conv(wide), inputs: [0]),
                     GraphNode(name: "back", op: .conv(back), inputs: [1])]
        let model = try GraphModel(nodes: nodes, scale: 1, channels: .y, residual: .none, metadata: [:])
        let expected = [into, wide, back].reduce(1) { lcm($0, $1.winogradTile ?? 1) }
        #expect(model.rowAlignment == expected)
        for layer in [into, wide, back] {
            #expect(layer.rowGeometry.alignment == (layer.winogradTile ?? 1))
            #expect(layer.colGeometry.alignment == (layer.winogradTile ?? 1))
        }
    }
}

/// A graph's receptive radius against what a one-pixel change of the input actually changes.
@Suite struct GraphReachTests {
    @Test(arguments: ["every_op.graph.bin", "rrdb_x2.safetensors", "span_x4.pth"])
    func onePixelChangeReachesNoFurtherThanTheRadius(file: String) throws {
        let graph = file.hasSuffix(".graph.bin") ? try GraphModel.load(path: try GraphFixtures.path(file)) : try GraphFixtures.graph(file)
        let radius = graph.receptiveRadius
        let n = 2 * radius + 12
        var rng = SeededRandom(seed: 11)
        let c = graph.channels.count
        var input = Tensor(shape: [1, c, n, n], data: rng.floats(c * n * n, 0...1))
        let before = try graph.networkOutput(input, threads: 1)
        let centre = n / 2
        for ch in 0..<c { input.data[(ch * n + centre) * n + centre] += 0.5 }
        let after = try graph.networkOutput(input, threads: 1)
        let (outC, outN) = (before.shape[1], before.shape[2])
        var farthest = 0
        for ch in 0..<outC {
            for y in 0..<outN {
                for x in 0..<outN where before.data[(ch * outN + y) * outN + x] != after.data[(ch * outN + y) * outN + x] {
                    farthest = max(farthest, abs(y / graph.scale - centre), abs(x / graph.scale - centre))
                }
            }
        }
        // Nothing changes beyond the radius. Near its edge a change is many small weights deep and
        // can round away, so the visible reach is somewhat shorter (every_op: 4 of 4; RRDBNet 59 of
        // 68; SPAN 16 of 21), but not much.
        #expect(farthest <= radius && 2 * farthest >= radius, "\(file): \(farthest) vs \(radius)")
    }
}

/// A graph model reads an image with alpha as a stack does: the straight colour with the transparent
/// pixels filled from the box of its receptive radius (Resampling/Alpha.swift), not the
/// premultiplied colour. A stack and its own graph form give the same bits on such an image.
@Test(arguments: [(UInt64(31), 2), (UInt64(32), 3)])
func graphFormOfAStackFillsTransparentPixelsAsTheStackDoes(seed: UInt64, scale: Int) throws {
    var rng = SeededRandom(seed: seed)
    let layers = randomLayers(&rng, channels: 3, scale: scale, depth: 4)
    let stack = try Model(layers: layers, scale: scale, channels: .rgb, residual: .bicubic, metadata: [:])
    let graph = try GraphModel(stack: stack)
    #expect(graph.receptiveRadius == stack.receptiveHalo)
    let asGraph = try Model(graph: graph)
    let (h, w) = (17, 13)
    let color = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
    // Opaque, half-transparent and fully transparent pixels, in blocks.
    let alpha = Tensor(shape: [1, 1, h, w], data: (0..<(h * w)).map { i in [1, 0, 0.5, 1, 0][(i / w / 4 + i % w / 3) % 5] })
    var options = RunOptions()
    options.tileSize = 6
    let expected = try stack.upscale(color: color, alpha: alpha, options: options)
    let got = try asGraph.upscale(color: color, alpha: alpha, options: options)
    #expect(got.color.data.elementsEqual(expected.color.data) { $0.bitPattern == $1.bitPattern },
            "max |Δ| \(allClose(got.color.data, expected.color.data).maxDiff)")
    #expect(got.alpha?.data == expected.alpha?.data)
}

/// Winograd layers' row tiles staggered along a graph (GraphModel+Stagger): each layer lags its
/// input by its own reach, so a skip connection over n layers holds about n rows, not 4n.
@Suite struct StaggeredTilesTests {
    /// image → conv 3→32 (narrow) → n × Winograd 32→32 → add(the last, the first) → conv 32→3.
    static func skipGraph(depth n: Int) throws -> GraphModel {
        var rng = SeededRandom(seed: 31)
        func layer(_ cIn: Int, _ cOut: Int) -> ModelLayer {
            ModelLayer(weight: Tensor(shape: [cIn, cOut, 3, 3], data: rng.floats(cIn * cOut * 9, -0.05...0.05)), padding: (1, 1))
        }
        var nodes = [GraphNode(name: "first", op: .conv(layer(3, 32)), inputs: [GraphNode.image])]
        for i in 0..<n { nodes.append(GraphNode(name: "body.\(i)", op: .conv(layer(32, 32)), inputs: [i])) }
        nodes.append(GraphNode(name: "skip", op: .add(scales: [1, 1]), inputs: [n, 0]))
        nodes.append(GraphNode(name: "last", op: .conv(layer(32, 3)), inputs: [n + 1]))
        return try GraphModel(nodes: nodes, scale: 1, channels: .rgb, residual: .none, metadata: [:])
    }

    @Test func eachWinogradLayerStartsItsTilesOneRowAboveItsInputs() throws {
        let model = try Self.skipGraph(depth: 9)
        var phases: [Int] = []
        for node in model.nodes {
            guard case .conv(let layer) = node.op, layer.winogradTile != nil else { continue }
            #expect(layer.rowGeometry.alignment == 4)
            phases.append(layer.rowGeometry.phase)
        }
        // The image ends at E; "first" (padding 1) at E − 1; body.i at E − 2 − i; tiles start there mod 4.
        #expect(phases == (0..<9).map { ((-2 - $0) % 4 + 4) % 4 })
    }

    @Test(arguments: [1, 4, 16])
    func aSkipOverDeepWinogradLayersHoldsAboutOneRowPerLayer(fetchRows: Int) throws {
        let depth = 24
        let model = try Self.skipGraph(depth: depth)
        let held = model.pipelineRingRows(paddedHeight: 400, fetchRows: fetchRows, rowAlignment: 1).nodes[0]
        // Lag one row per layer (24 + 1), plus a pass and the blocks in flight; tiles all at rows
        // 0, 4, 8, … would hold 4 rows per layer (~100).
        #expect(held <= depth + 1 + fetchRows + 12, "\(held) rows held by the skip at \(fetchRows) rows per pass")
    }

    @Test func staggeredGraphStreamsTheWholeImagesBitsInEveryBand() throws {
        let model = try Self.skipGraph(depth: 6)
        var rng = SeededRandom(seed: 8)
        let (h, w) = (21, 19)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let whole = try model.networkOutput(input, threads: 1)
        for (band, threads, fetch) in [(1, 1, 1), (5, 2, 3), (8, 2, 16), (3 * h, 1, 4)] {
            let pipeline = GraphPipeline(model: model, height: h, width: w, threads: threads, fetchRows: fetch)
            var parts: [Float] = []
            var rows: [Tensor] = []
            for start in stride(from: 0, to: h, by: band) {
                rows.append(try pipeline.outputRows(start..<min(h, start + band)) { Model.rows($0, of: input) })
            }
            for c in 0..<3 { for part in rows { parts += part.data[(c * part.shape[2] * w)..<((c + 1) * part.shape[2] * w)] } }
            #expect(parts == whole.data, "band \(band), \(threads) threads, \(fetch) rows per pass")
        }
    }
}

@Suite struct GraphWeightBytesTests {
    /// The memory estimate counts a Winograd layer's transformed weights (36 per 9 of its kernel),
    /// not 4 bytes per learned value: a 24-layer 32 → 32 body holds ~4× its kernels' floats again.
    @Test func winogradWeightsCountAsTransformed() throws {
        let model = try StaggeredTilesTests.skipGraph(depth: 24)
        let kernels = 24 * 32 * 32 * 9
        #expect(model.weightBytes >= 4 * model.parameterCount + 4 * 4 * kernels)
        #expect(model.weightBytes < 4 * model.parameterCount + 4 * 6 * kernels)
    }
}
