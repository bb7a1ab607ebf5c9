import Foundation
import Testing
@testable import UpscaleKit

/// One axis of a random layer whose size map is n ↦ stride·n: 2p = d(k − 1) + op + 1 − s.
func randomAxis(_ rng: inout SeededRandom, stride s: Int) -> (k: Int, p: Int, op: Int, d: Int) {
    while true {
        let k = Int.random(in: 1...5, using: &rng)
        let d = Int.random(in: 1...2, using: &rng)
        let op = Int.random(in: 0..<max(s, d), using: &rng)
        let twoP = d * (k - 1) + op + 1 - s
        if twoP >= 0 && twoP % 2 == 0 { return (k, twoP / 2, op, d) }
    }
}

/// A random stack (strides, dilations, groups, every activation) mapping n ↦ scale·n.
func randomLayers(_ rng: inout SeededRandom, channels: Int, scale: Int, depth: Int) -> [ModelLayer] {
    // Put the whole scale on one random layer (2 or 3 allowed; 4 as 2·2 on two layers).
    var strides = [Int](repeating: 1, count: depth)
    if scale == 4 && depth >= 2 { strides[0] = 2; strides[depth - 1] = 2 } else { strides[Int.random(in: 0..<depth, using: &rng)] = scale }
    let activations: [Activation] = [.none, .relu, .leakyReLU(0.1), .prelu([]), .sigmoid, .tanh, .silu]
    var layers: [ModelLayer] = []
    var cIn = channels
    for l in 0..<depth {
        let groups = (l > 0 && l < depth - 1 && cIn % 2 == 0) ? [1, 2].randomElement(using: &rng)! : 1
        let cOut = l == depth - 1 ? channels : 2 * Int.random(in: 1...3, using: &rng)
        let (row, col) = (randomAxis(&rng, stride: strides[l]), randomAxis(&rng, stride: strides[l]))
        let weightShape = [cIn, cOut / groups, row.k, col.k]
        let fan = Float(cIn * row.k * col.k)
        let weight = Tensor(shape: weightShape, data: rng.floats(Tensor.elementCount(weightShape), -1...1).map { $0 / fan.squareRoot() })
        let bias = Bool.random(using: &rng) ? Tensor(shape: [cOut], data: rng.floats(cOut, -0.2...0.2)) : nil
        var activation = l == depth - 1 ? Activation.none : activations.randomElement(using: &rng)!
        if case .prelu = activation { activation = .prelu(rng.floats(Bool.random(using: &rng) ? 1 : cOut, 0...0.5)) }
        layers.append(ModelLayer(weight: weight, bias: bias, stride: (strides[l], strides[l]), padding: (row.p, col.p),
                                 outputPadding: (row.op, col.op), dilation: (row.d, col.d), groups: groups,
                                 activation: activation))
        cIn = cOut
    }
    return layers
}

/// The oracle for the tiled runner: each layer on the whole feature map at once, with its real padding.
func wholeImageStack(_ layers: [ModelLayer], _ input: Tensor) throws -> Tensor {
    var x = input
    for layer in layers {
        // The model's kernels on the whole map, a Winograd layer's tiles where the model puts them
        // (GraphModel+Stagger; phase 0 for a layer given alone).
        let plan = try ConvTranspose2DPlan(weight: layer.weight, bias: layer.bias, stride: layer.stride, padding: layer.padding,
                                           outputPadding: layer.outputPadding, groups: layer.groups, dilation: layer.dilation)
        x = try plan.run(x, tilePhase: (layer.rowGeometry.phase, 0), threads: 1)
        layer.activation.apply(&x)
    }
    return x
}

/// A layer of seeded random weights scaled by 1/√fan-in and biases in ±0.1: features that neither
/// vanish nor blow up through a stack.
func randomLayer(_ rng: inout SeededRandom, _ cIn: Int, _ cOut: Int, _ k: Int, _ p: Int, stride: Int = 1,
                 dilation: Int = 1, activation: Activation) -> ModelLayer {
    let fan = Float(cIn * k * k).squareRoot()
    return ModelLayer(weight: Tensor(shape: [cIn, cOut, k, k], data: rng.floats(cIn * cOut * k * k).map { $0 / fan }),
                      bias: Tensor(shape: [cOut], data: rng.floats(cOut, -0.1...0.1)), stride: (stride, stride),
                      padding: (p, p), dilation: (dilation, dilation), activation: activation)
}

/// A stack of wide layers three ways: each layer on `kernel` (+Direct or +Wide, forced) gives the
/// narrow kernel's bits; the model's own choice (Winograd where it applies, ConvTransposeWinograd)
/// run whole is within float rounding of them; and the model tiled at each of `tiles` gives that
/// whole run's bits.
func expectTiledStackEqualsWholeImageAndNarrowKernel(_ layers: [ModelLayer], input: Tensor, kernel: ConvTranspose2DKernelChoice,
                                                      tiles: [(tileSize: Int, threads: Int)]) throws {
    let model = try Model(layers: layers, scale: 2, channels: .rgb, residual: .none, metadata: [:])
    func run(_ choice: ConvTranspose2DKernelChoice) throws -> Tensor {
        var x = input
        for layer in layers {
            let plan = try ConvTranspose2DPlan(weight: layer.weight, bias: layer.bias, stride: layer.stride,
                                               padding: layer.padding, dilation: layer.dilation, kernel: choice)
            x = try plan.run(x, threads: 2)
            layer.activation.apply(&x)
        }
        return x
    }
    let narrow = try run(.narrow)
    #expect(try run(kernel).data.map(\.bitPattern) == narrow.data.map(\.bitPattern), "\(kernel) against narrow")

    let expected = try wholeImageStack(model.layers, input)   // the model's layers: their Winograd tiles staggered
    let close = allClose(expected, narrow, rtol: 1e-4, atol: 1e-5)
    #expect(close.ok, "the model's kernels against narrow: max |Δ| \(close.maxDiff)")
    let tracker = RunTracker(options: RunOptions(), total: 1 << 20)
    for (tileSize, threads) in tiles {   // the tiled runner itself (stackOutput streams a Winograd stack as its chain)
        #expect(try model.stackWholeImage(input, tileSize: tileSize, threads: threads, tracker: tracker).data == expected.data,
                "tile \(tileSize) threads \(threads)")
    }
}

/// A unique temporary path for a file a test writes.
func temporaryModelPath(_ name: String) -> String {
    NSTemporaryDirectory() + "upscale-test-\(UUID().uuidString)-\(name)"
}
