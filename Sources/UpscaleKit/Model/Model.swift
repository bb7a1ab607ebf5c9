// A pretrained super-resolution model: a stack of conv_transpose2d layers, each followed by an
// activation, mapping a (1, C, H, W) image to (1, C, scale·H, scale·W).
//
// The file format (safetensors, see docs/model-format.md) is read by Model+Safetensors.swift and
// written by Model+Writer.swift; the tiled runner is in Pipeline/TiledRunner.swift, the upscale loop
// and its colour stage in Pipeline/Model+Stream.swift, the input side
// in Model+Upscale.swift. Every model, however built, passes `Model.validate`.

/// Limits past which a model is refused (before anything is allocated for it).
public enum ModelLimits {
    public static let maxLayers = 64
    public static let maxKernel = 32
    public static let maxChannels = 4096
    public static let maxStride = 32
    public static let maxDilation = 32
    public static let maxPadding = 1024
    public static let maxGroups = 4096
    public static let maxScale = 16
    public static let maxInputPadding = 64
    public static let maxFileBytes = 1 << 30
    public static let maxHeaderBytes = 100 << 20
}

public final class Model: Sendable {
    public let scale: Int
    public let channels: ModelChannels
    public let residual: ModelResidual
    /// Pixels of border replication added on each side of the stack's input (waifu2x's padding):
    /// the stack maps n + 2·inputPadding to scale·n. 0: none.
    public let inputPadding: Int
    public let layers: [ModelLayer]
    /// Free-form descriptive entries: `name`, `description`, `license`, `trained_on`, …
    public let metadata: [String: String]
    /// One conv plan per layer, weights repacked once, with the layer's activation (fused into the
    /// store when the kernel can: the plan's choice); the tiled runner runs windows of them.
    let plans: [ConvTranspose2DPlan]
    /// A graph model (`upscale.graph/1`), run by the graph pipeline (Pipeline/) in place of the
    /// stack. Its `layers` are then one stand-in layer (kernel = stride = scale, zero weights)
    /// whose geometry, n ↦ scale·n with no halo, is what the band and tile planners and the
    /// colour stage read; the stack runner never runs it (`stackTiles` refuses).
    public let graph: GraphModel?
    /// A stack with Winograd layers and no input padding, as the chain of its layers (GraphModel(stack:),
    /// sharing the plans): the upscale loop streams it through the graph pipeline, which computes
    /// each row of each layer once, where the tiled runner would recompute halos grown by every
    /// layer's tile alignment (`streamGraph`). Nil for every other model.
    let chain: GraphModel?

    /// Builds a model from layers, checking that they chain, that the geometry is exactly `scale ×`,
    /// and that sizes are within `ModelLimits`.
    /// - Throws: `ModelError` naming the layer and the problem.
    public convenience init(layers: [ModelLayer], scale: Int, channels: ModelChannels, residual: ModelResidual,
                            inputPadding: Int = 0, metadata: [String: String]) throws {
        try self.init(layers: layers, scale: scale, channels: channels, residual: residual, inputPadding: inputPadding,
                      metadata: metadata, source: metadata["name"] ?? "<model>")
    }

    /// - Parameter threads: workers that build the layers' plans (`ConvTranspose2DPlan.plans`).
    init(layers: [ModelLayer], scale: Int, channels: ModelChannels, residual: ModelResidual, inputPadding: Int = 0,
         metadata: [String: String], source: String, threads: Int = 1) throws {
        try Model.validate(layers: layers, scale: scale, channels: channels, inputPadding: inputPadding,
                           metadata: metadata, source: source)
        // The Winograd layers' row tiles staggered as in the stack's chain (GraphModel+Stagger), for
        // the tiled runner and the chain alike.
        let layers = GraphModel.staggered(GraphModel.chainNodes(of: layers)).map { node -> ModelLayer in
            guard case .conv(let layer) = node.op else { preconditionFailure("a stack's node is a conv") }
            return layer
        }
        self.layers = layers
        do {
            self.plans = try ConvTranspose2DPlan.plans(of: layers, threads: threads).map { $0! }
        } catch {
            throw ModelError("\(source): \(error)", path: source)
        }
        self.scale = scale
        self.channels = channels
        self.residual = residual
        self.inputPadding = inputPadding
        self.metadata = metadata
        self.graph = nil
        let aligned = layers.contains { $0.winogradTile != nil }
        self.chain = aligned && inputPadding == 0
            ? try? GraphModel(chainOf: layers, plans: plans, scale: scale, channels: channels, residual: residual,
                              metadata: metadata, source: source)
            : nil
    }

    /// The kernel each layer runs (ConvTranspose2DAlgorithm), as `upscale info` shows it.
    public var layerAlgorithms: [ConvTranspose2DAlgorithm] { plans.map(\.algorithm) }

    /// Widest image (input pixels) the upscale loop streams a stack's `chain` for: wider ones take
    /// the tiled runner, whose memory does not grow with the width (issue 25 allows recomputation
    /// beyond 2048 pixels). The pipeline's rows of a 64-channel, 33-layer SRVGGNetCompact at this
    /// width hold about 130 MB.
    static let chainWidthLimit = 2048

    /// The graph the upscale loop streams an image `width` wide through: a graph model's own graph,
    /// or a stack's chain (not with test-time augmentation, whose whole-image passes tile the stack,
    /// and not beyond `chainWidthLimit`); nil: the stack's tiled runner.
    public func streamGraph(width: Int, tta: Bool) -> GraphModel? {
        if let graph { return graph }
        guard let chain, !tta, width <= Model.chainWidthLimit else { return nil }
        return chain
    }

    /// A graph model, run by the graph pipeline (see `graph`).
    public init(graph: GraphModel) throws {
        let (c, s) = (graph.channels.count, graph.scale)
        let standIn = ModelLayer(weight: Tensor(zeros: [c, c, s, s]), stride: (s, s))
        self.layers = [standIn]
        self.plans = [try ConvTranspose2DPlan(weight: standIn.weight, stride: standIn.stride)]
        self.scale = s
        self.channels = graph.channels
        self.residual = graph.residual
        self.inputPadding = 0
        self.metadata = graph.metadata
        self.graph = graph
        self.chain = nil
    }

    /// For a run: a graph model without its convolutions' weights as loaded
    /// (GraphModel.withoutSourceWeights; its plans hold them repacked); a stack as it is.
    public func withoutSourceWeights() throws -> Model {
        guard let graph else { return self }
        return try Model(graph: graph.withoutSourceWeights())
    }

    /// Keys of `__metadata__` that the format itself defines (not free-form metadata).
    static let structuralKeys: Set<String> = ["format", "scale", "channels", "residual", "input_padding", "layers"]

    /// Number of learned values (weights, biases, PReLU slopes).
    public var parameterCount: Int {
        if let graph { return graph.parameterCount }
        return layers.reduce(0) { total, layer in
            var n = layer.weight.count + (layer.bias?.count ?? 0)
            if case .prelu(let slopes) = layer.activation { n += slopes.count }
            return total + n
        }
    }

    /// Multiply-accumulates per output pixel (for large images; FLOPs = 2·MACs).
    public var macsPerOutputPixel: Double {
        if let graph { return graph.macsPerOutputPixel }
        // Layer l runs on (Π_{j<l} s_j)² pixels per input pixel; the output has scale² per input pixel.
        var pixelsH = 1.0, pixelsW = 1.0
        var macs = 0.0
        for layer in layers {
            let (kH, kW) = layer.kernel
            macs += pixelsH * pixelsW * Double(layer.inChannels * layer.weightShape[1] * kH * kW)
            pixelsH *= Double(layer.stride.0)
            pixelsW *= Double(layer.stride.1)
        }
        return macs / (Double(scale) * Double(scale))
    }

    /// Input pixels of context, on each side, that one output pixel needs (the tile halo).
    public var receptiveHalo: Int {
        TilePlan.halo(rows: rowGeometry, cols: colGeometry, inputPadding: inputPadding)
    }

    /// The box radius of the fill the network reads for an image with alpha (Resampling/Alpha.swift):
    /// from the stack's halo, or a graph model's receptive radius (its stand-in layer has no halo).
    var alphaFillRadius: Int {
        Alpha.fillRadius(halo: graph?.receptiveRadius ?? receptiveHalo)
    }

    /// The tile edge `upscale` uses unless told (`--tile`): 256 input pixels, or for a deep stack
    /// 32 halos rounded up to a multiple of 64, at most 1024, so that the context recomputed around
    /// each tile stays under about 6% of the work. An SRVGGNetCompact x4 (halo 34) gets 1024: on a
    /// 1080p input its network ran in 31 s instead of 39.5 s at 256 (Zen 4, 2 threads,
    /// BENCHMARKS.md); models of halo 8 or less keep 256. The output does not depend on it.
    public var defaultTileSize: Int {
        min(1024, max(RunOptions.standardTileSize, (32 * receptiveHalo + 63) / 64 * 64))
    }

    var rowGeometry: [AxisGeometry] { layers.map(\.rowGeometry) }
    var colGeometry: [AxisGeometry] { layers.map(\.colGeometry) }

    // MARK: - Validation

    static func validate(layers: [ModelLayer], scale: Int, channels: ModelChannels, inputPadding: Int = 0,
                         metadata: [String: String], source: String) throws {
        func fail(_ what: String) -> ModelError { ModelError("\(source): \(what)", path: source) }
        guard (1...ModelLimits.maxScale).contains(scale) else {
            throw fail("scale \(scale) is not between 1 and \(ModelLimits.maxScale)")
        }
        guard (0...ModelLimits.maxInputPadding).contains(inputPadding) else {
            throw fail("input_padding \(inputPadding) is not between 0 and \(ModelLimits.maxInputPadding)")
        }
        guard !layers.isEmpty else { throw fail("the model has no layers") }
        guard layers.count <= ModelLimits.maxLayers else {
            throw fail("\(layers.count) layers is more than the limit of \(ModelLimits.maxLayers)")
        }
        for key in metadata.keys.sorted() where structuralKeys.contains(key) {
            throw fail("metadata key \"\(key)\" is reserved for the format")
        }
        for (i, layer) in layers.enumerated() {
            try validate(layer: layer, index: i, source: source)
            if i > 0, layers[i - 1].outChannels != layer.inChannels {
                throw fail("layer \(i) (layers.\(i).weight) expects \(layer.inChannels) input channels (weight dim 0), but layer \(i - 1) outputs \(layers[i - 1].outChannels)")
            }
        }
        guard layers[0].inChannels == channels.count else {
            throw fail("layer 0 (layers.0.weight) reads \(layers[0].inChannels) channels, but a \"\(channels.rawValue)\" model reads \(channels.count)")
        }
        let last = layers.count - 1
        guard layers[last].outChannels == channels.count else {
            throw fail("layer \(last) (the last) writes \(layers[last].outChannels) channels, but a \"\(channels.rawValue)\" model writes \(channels.count)")
        }
        // Geometry: each layer maps n ↦ s·n + c, so the stack maps n ↦ S·n + C. Require S = scale,
        // C = −2P·scale (the padded n + 2P maps to scale·n; C = 0 without padding), and no layer
        // empty at n = 1 (then none is at any n ≥ 1: sizes only grow with n).
        for (axis, geometry) in [("height", layers.map(\.rowGeometry)), ("width", layers.map(\.colGeometry))] {
            var slope = 1, offset = 0, sizeAtOne = 1 + 2 * inputPadding
            for (i, g) in geometry.enumerated() {
                slope *= g.stride
                offset = offset * g.stride + g.outputSize(0)   // the layer maps n to stride·n + outputSize(0)
                sizeAtOne = g.outputSize(sizeAtOne)
                guard sizeAtOne >= 1 else {
                    throw fail("layer \(i) gives an empty \(axis) for a 1-pixel input (padding \(g.padding) is too large for kernel \(g.kernel), stride \(g.stride), dilation \(g.dilation), input_padding \(inputPadding))")
                }
                guard slope <= ModelLimits.maxScale else {
                    throw fail("the product of strides along the \(axis) reaches \(slope) at layer \(i), more than the limit of \(ModelLimits.maxScale)")
                }
            }
            guard slope == scale, offset == -2 * inputPadding * scale else {
                let formula = offset == 0 ? "\(slope)·n" : (offset > 0 ? "\(slope)·n + \(offset)" : "\(slope)·n − \(-offset)")
                let wanted = inputPadding == 0 ? "\(scale)·n" : "\(scale)·n − \(2 * inputPadding * scale) (= \(scale)·(n − 2·\(inputPadding)), input_padding \(inputPadding))"
                throw fail("the layers map an input \(axis) n to \(formula), not \(wanted) (scale \(scale)): check the strides, padding and output_padding")
            }
        }
    }

    static func validate(layer: ModelLayer, index i: Int, source: String) throws {
        func fail(_ what: String) -> ModelError { ModelError("\(source): layer \(i) (layers.\(i)): \(what)", path: source) }
        let w = layer.weightShape
        guard w.count == 4 else { throw fail("weight has shape \(w), expected 4 dims (Cin, Cout/groups, kH, kW)") }
        guard (1...ModelLimits.maxGroups).contains(layer.groups) else { throw fail("groups \(layer.groups) must be between 1 and \(ModelLimits.maxGroups)") }
        guard w[0] <= ModelLimits.maxChannels, w[1] * layer.groups <= ModelLimits.maxChannels else {
            throw fail("weight shape \(w) has more than \(ModelLimits.maxChannels) channels")
        }
        guard w[2] <= ModelLimits.maxKernel, w[3] <= ModelLimits.maxKernel else {
            throw fail("kernel \(w[2])×\(w[3]) is larger than the limit of \(ModelLimits.maxKernel)")
        }
        let pairs = [("stride", layer.stride, 1, ModelLimits.maxStride),
                     ("dilation", layer.dilation, 1, ModelLimits.maxDilation),
                     ("padding", layer.padding, 0, ModelLimits.maxPadding),
                     ("output_padding", layer.outputPadding, 0, ModelLimits.maxStride)]
        for (name, v, lo, hi) in pairs {
            guard (lo...hi).contains(v.0), (lo...hi).contains(v.1) else {
                throw fail("\(name) [\(v.0), \(v.1)] must be between \(lo) and \(hi)")
            }
        }
        // The op's own checks (empty dimensions, groups dividing Cin, output_padding against stride
        // and dilation, bias shape, PReLU slope count), as conv_transpose2d makes them for any call.
        do {
            try ConvTranspose2DPlan.check(weightShape: w, biasShape: layer.bias?.shape, stride: layer.stride,
                                          padding: layer.padding, outputPadding: layer.outputPadding,
                                          groups: layer.groups, dilation: layer.dilation, epilogue: layer.activation)
        } catch {
            throw fail("\(error)")
        }
        switch layer.activation {
        case .prelu(let slopes):
            guard slopes.allSatisfy({ $0.isFinite }) else { throw fail("prelu has a NaN or infinite slope") }
        case .leakyReLU(let slope):
            guard slope.isFinite else { throw fail("leaky_relu slope \(slope) is not finite") }
        default:
            break
        }
        if let bad = layer.weight.data.firstIndex(where: { !$0.isFinite }) {
            throw fail("weight has a NaN or infinite value (\(layer.weight.data[bad]) at flat index \(bad))")
        }
        if let bias = layer.bias, let bad = bias.data.firstIndex(where: { !$0.isFinite }) {
            throw fail("bias has a NaN or infinite value (\(bias.data[bad]) at index \(bad))")
        }
    }
}
