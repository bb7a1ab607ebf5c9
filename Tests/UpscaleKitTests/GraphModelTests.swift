// The graph model (format upscale.graph/1): its checks, its file round trip, and the whole-image
// run against independent oracles: the stack runner (a stack written as a graph must give the
// same bits) and per-op formulas written out index by index here.
import Foundation
import Testing
@testable import UpscaleKit

/// A random conv node weight (Cin, Cout, k, k) scaled by 1/√fan, "same" padding.
func graphConv(_ rng: inout SeededRandom, _ cIn: Int, _ cOut: Int, k: Int = 3, activation: Activation = .none) -> GraphOp {
    let fan = Float(cIn * k * k)
    let weight = Tensor(shape: [cIn, cOut, k, k], data: rng.floats(cIn * cOut * k * k).map { $0 / fan.squareRoot() })
    return .conv(ModelLayer(weight: weight, bias: Tensor(shape: [cOut], data: rng.floats(cOut, -0.1...0.1)),
                            padding: ((k - 1) / 2, (k - 1) / 2), activation: activation))
}

/// A small graph with every node kind: unshuffle by 2, convs, a dense concat, a scaled add,
/// a gate (mul of sigmoid-shifted values), prelu, leaky_relu, silu, upsample and shuffle back up.
/// `logistic: false` puts leaky_relu nodes where sigmoid and silu are (same weights): a graph whose
/// every op the oracle below computes bit for bit (its sigmoid and silu use libm's `exp`, ours Logistic).
func everyOpGraph(seed: UInt64, logistic: Bool = true) throws -> GraphModel {
    var rng = SeededRandom(seed: seed)
    let input = GraphNode.image
    let nodes: [GraphNode] = [
        GraphNode(name: "norm", op: .affine(shift: [-0.4, -0.5, -0.6], scale: [2]), inputs: [input]),       // 0: 3 @1
        GraphNode(name: "down", op: .pixelUnshuffle(2), inputs: [0]),                                         // 1: 12 @1/2
        GraphNode(name: "c1", op: graphConv(&rng, 12, 6, activation: .leakyReLU(0.2)), inputs: [1]),         // 2: 6
        GraphNode(name: "cat", op: .concat, inputs: [1, 2]),                                                  // 3: 18
        GraphNode(name: "c2", op: graphConv(&rng, 18, 6), inputs: [3]),                                       // 4: 6
        GraphNode(name: "res", op: .add(scales: [0.2, 1]), inputs: [4, 2]),                                   // 5: 6
        GraphNode(name: "sig", op: logistic ? .sigmoid : .leakyReLU(0.3), inputs: [5]),                       // 6
        GraphNode(name: "att", op: .affine(shift: [-0.5], scale: [1]), inputs: [6]),                          // 7
        GraphNode(name: "gate", op: .mul, inputs: [5, 7]),                                                    // 8
        GraphNode(name: "act", op: logistic ? .silu : .leakyReLU(0.7), inputs: [8]),                          // 9
        GraphNode(name: "pre", op: .prelu(rng.floats(6, 0...0.5)), inputs: [9]),                              // 10
        GraphNode(name: "lr", op: .leakyReLU(0.1), inputs: [10]),                                             // 11
        GraphNode(name: "up", op: .upsampleNearest(2), inputs: [11]),                                         // 12: 6 @1
        GraphNode(name: "c3", op: graphConv(&rng, 6, 12), inputs: [12]),                                      // 13: 12 @1
        GraphNode(name: "shuf", op: .pixelShuffle(2), inputs: [13]),                                          // 14: 3 @2
        GraphNode(name: "sum", op: .add(scales: [1, 1, 0.5]), inputs: [14, 14, 14]),                          // 15: 3 @2
    ]
    return try GraphModel(nodes: nodes, scale: 2, channels: .rgb, residual: .none, metadata: ["name": "every-op"])
}

@Suite struct GraphModelTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func stackWrittenAsAGraphGivesTheStacksBits(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let scale = [1, 2, 3, 4][Int(seed % 4)]
        let layers = randomLayers(&rng, channels: 3, scale: scale, depth: 2 + Int(seed % 3))
        let stack = try Model(layers: layers, scale: scale, channels: .rgb, residual: .none, metadata: ["name": "s\(seed)"])
        let graph = try GraphModel(stack: stack)
        let input = Tensor(shape: [1, 3, 7, 9], data: rng.floats(3 * 63, 0...1))
        var options = RunOptions()
        options.tileSize = 4
        let expected = try stack.stackOutput(input, options: options)
        for threads in [1, 2] {
            let got = try graph.networkOutput(input, threads: threads)
            #expect(got == expected, "seed \(seed), threads \(threads): the graph's bits differ from the stack's")
        }
        // And after a round trip through the file.
        let reread = try GraphModel(bytes: try graph.serialized(), name: "roundtrip")
        #expect(try reread.networkOutput(input, threads: 1) == expected)
    }

    @Test func everyOpMatchesItsFormulas() throws {
        let model = try everyOpGraph(seed: 7)
        #expect(model.sizeMultiple == 2)
        var rng = SeededRandom(seed: 8)
        let (h, w) = (6, 8)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let got = try model.networkOutput(input, threads: 2)
        #expect(got.shape == [1, 3, 2 * h, 2 * w])
        // sigmoid and silu: Logistic's e^−x is within 2 ulp of libm's, not equal to it.
        let close = allClose(got, try GraphOracle.run(model, input), rtol: 1e-6, atol: 2e-6)
        #expect(close.ok, "the executor differs from the per-op formulas: max diff \(close.maxDiff)")
        // Every other op bit for bit.
        let exact = try everyOpGraph(seed: 7, logistic: false)
        #expect(try exact.networkOutput(input, threads: 2) == (try GraphOracle.run(exact, input)), "the executor differs from the per-op formulas")
    }

    @Test func oddSizesAreReflectPaddedThenCropped() throws {
        let model = try everyOpGraph(seed: 9, logistic: false)   // bit for bit against the oracle
        var rng = SeededRandom(seed: 10)
        for (h, w) in [(5, 7), (1, 1), (1, 4), (3, 2)] {
            let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
            // The oracle: pad by reflection index by index (PyTorch's rule for pad < n), run, crop.
            let (ph, pw) = ((h + 1) / 2 * 2, (w + 1) / 2 * 2)
            func reflect(_ i: Int, _ n: Int) -> Int { n == 1 ? 0 : (i < n ? i : 2 * (n - 1) - i) }
            var padded = [Float](repeating: 0, count: 3 * ph * pw)
            for c in 0..<3 { for y in 0..<ph { for x in 0..<pw {
                padded[(c * ph + y) * pw + x] = input.data[(c * h + reflect(y, h)) * w + reflect(x, w)]
            } } }
            let full = try GraphOracle.run(model, Tensor(shape: [1, 3, ph, pw], data: padded))
            var expected = [Float]()
            for c in 0..<3 { for y in 0..<(2 * h) { for x in 0..<(2 * w) { expected.append(full.data[(c * 2 * ph + y) * 2 * pw + x]) } } }
            let got = try model.networkOutput(input, threads: 1)
            #expect(got.shape == [1, 3, 2 * h, 2 * w] && got.data == expected, "\(h)×\(w)")
        }
    }

    @Test(arguments: [ModelTensorType.f32, .f16, .bf16])
    func fileRoundTripKeepsEveryNode(dtype: ModelTensorType) throws {
        let model = try everyOpGraph(seed: 11)
        let bytes = try model.serialized(dtype: dtype)
        let reread = try GraphModel(bytes: bytes, name: "roundtrip")
        #expect(reread.nodes.map(\.name) == model.nodes.map(\.name))
        #expect(reread.nodes.map(\.op.kind) == model.nodes.map(\.op.kind))
        #expect(reread.nodes.map(\.inputs) == model.nodes.map(\.inputs))
        #expect(reread.metadata == model.metadata && reread.scale == 2 && reread.parameterCount == model.parameterCount)
        // Written again, the file is the same bytes (the reader kept every value the writer wrote).
        #expect(try reread.serialized(dtype: dtype) == bytes)
        if dtype == .f32 {
            var rng = SeededRandom(seed: 12)
            let input = Tensor(shape: [1, 3, 4, 6], data: rng.floats(72, 0...1))
            #expect(try reread.networkOutput(input, threads: 1) == (try model.networkOutput(input, threads: 1)))
        }
    }

    @Test func shapesAndWorkAreCounted() throws {
        let model = try everyOpGraph(seed: 13)
        #expect(model.shapes[1] == GraphValueShape(channels: 12, rows: SizeRatio(1, 2), cols: SizeRatio(1, 2)))
        #expect(model.shapes[3].channels == 18 && model.shapes[14].channels == 3)
        // convs: c1 12→6 and c2 18→6 at 1/4 of the input's pixels, c3 6→12 at all of them; 9 taps;
        // the output has 4 pixels per input pixel.
        let macs = (0.25 * Double(12 * 6 * 9) + 0.25 * Double(18 * 6 * 9) + Double(6 * 12 * 9)) / 4
        #expect(abs(model.macsPerOutputPixel - macs) < 1e-9)
        #expect(model.lastUse[14] == 15 && model.lastUse[15] == model.nodes.count && model.lastUse[0] == 1)
    }
}

/// The graph's ops written out element by element, independently of Ops/Graph (convolutions by
/// the conv plan, tested against PyTorch elsewhere).
enum GraphOracle {
    static func run(_ model: GraphModel, _ input: Tensor) throws -> Tensor {
        var values: [Tensor] = []
        func value(_ v: Int) -> Tensor { v == GraphNode.image ? input : values[v] }
        for node in model.nodes {
            let x = value(node.inputs[0])
            let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
            let out: Tensor
            switch node.op {
            case .conv(let layer):
                out = try ConvTranspose2DPlan(weight: layer.weight, bias: layer.bias, stride: layer.stride, padding: layer.padding,
                                              outputPadding: layer.outputPadding, groups: layer.groups, dilation: layer.dilation,
                                              epilogue: layer.activation).run(x, threads: 1)
            case .add(let scales):
                var acc = x.data.map { scales[0] * $0 }
                for (i, v) in node.inputs.enumerated().dropFirst() {
                    let y = value(v).data
                    for e in acc.indices { acc[e] = acc[e] + scales[i] * y[e] }
                }
                out = Tensor(shape: x.shape, data: acc)
            case .mul:
                out = Tensor(shape: x.shape, data: zip(x.data, value(node.inputs[1]).data).map { $0 * $1 })
            case .affine(let shift, let scale):
                out = Tensor(shape: x.shape, data: x.data.enumerated().map { e, v in
                    let ch = e / (h * w)
                    return (v + shift[shift.count == 1 ? 0 : ch]) * scale[scale.count == 1 ? 0 : ch]
                })
            case .sigmoid: out = Tensor(shape: x.shape, data: x.data.map { 1 / (1 + exp(-$0)) })
            case .silu: out = Tensor(shape: x.shape, data: x.data.map { $0 / (1 + exp(-$0)) })
            case .leakyReLU(let a): out = Tensor(shape: x.shape, data: x.data.map { $0 >= 0 ? $0 : a * $0 })
            case .prelu(let a):
                out = Tensor(shape: x.shape, data: x.data.enumerated().map { e, v in v >= 0 ? v : a[a.count == 1 ? 0 : e / (h * w)] * v })
            case .concat:
                let parts = node.inputs.map(value)
                out = Tensor(shape: [1, parts.reduce(0) { $0 + $1.shape[1] }, h, w], data: parts.flatMap(\.data))
            case .pixelShuffle(let r):
                var y = [Float](repeating: 0, count: x.count)
                for co in 0..<(c / (r * r)) { for oy in 0..<(h * r) { for ox in 0..<(w * r) {
                    y[(co * h * r + oy) * w * r + ox] = x.data[((co * r * r + (oy % r) * r + ox % r) * h + oy / r) * w + ox / r]
                } } }
                out = Tensor(shape: [1, c / (r * r), h * r, w * r], data: y)
            case .pixelUnshuffle(let r):
                var y = [Float](repeating: 0, count: x.count)
                for ci in 0..<c { for iy in 0..<h { for ix in 0..<w {
                    y[((ci * r * r + (iy % r) * r + ix % r) * (h / r) + iy / r) * (w / r) + ix / r] = x.data[(ci * h + iy) * w + ix]
                } } }
                out = Tensor(shape: [1, c * r * r, h / r, w / r], data: y)
            case .upsampleNearest(let r):
                var y = [Float](repeating: 0, count: x.count * r * r)
                for ci in 0..<c { for oy in 0..<(h * r) { for ox in 0..<(w * r) {
                    y[(ci * h * r + oy) * w * r + ox] = x.data[(ci * h + oy / r) * w + ox / r]
                } } }
                out = Tensor(shape: [1, c, h * r, w * r], data: y)
            }
            values.append(out)
        }
        return values[values.count - 1]
    }
}
