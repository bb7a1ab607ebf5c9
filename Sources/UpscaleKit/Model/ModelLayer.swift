// A model's layer and its geometry along each axis.

/// One layer: `conv_transpose2d` (PyTorch semantics, see Ops/ConvTranspose2D.swift) then an activation.
public struct ModelLayer: Sendable {
    public var weight: Tensor            // (Cin, Cout/groups, kH, kW), PyTorch's layout; [0] once dropped
    public var bias: Tensor?             // (Cout)
    public var stride: (Int, Int)
    public var padding: (Int, Int)
    public var outputPadding: (Int, Int)
    public var dilation: (Int, Int)
    public var groups: Int
    public var activation: Activation
    /// The output row where the layer's Winograd tiles start, modulo their side (0 for every other
    /// layer): set by the model, which staggers its layers (GraphModel.staggered), never read from
    /// a file. The tile grid is part of the layer's rounding, so every run of the model uses it.
    public var rowPhase = 0
    /// The weight's shape once a run has dropped the weight itself (`droppingWeight()`), else nil.
    private var droppedShape: [Int]? = nil

    public init(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1,
                activation: Activation = .none) {
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.activation = activation
    }

    /// (Cin, Cout/groups, kH, kW): the weight's shape, which stays when the weight is dropped.
    public var weightShape: [Int] { droppedShape ?? weight.shape }
    /// False once a run has dropped the weight as loaded (its plan holds it repacked).
    public var hasWeight: Bool { droppedShape == nil }

    /// The layer without its weight as loaded, which its plan (ConvTranspose2DPlan) holds repacked:
    /// for a run (GraphModel.withoutSourceWeights), not for writing or building plans.
    func droppingWeight() -> ModelLayer {
        var layer = self
        layer.droppedShape = weightShape
        layer.weight = Tensor(shape: [0], data: [])
        return layer
    }

    /// Input channels (weight dim 0).
    public var inChannels: Int { weightShape[0] }
    /// Output channels (weight dim 1 · groups).
    public var outChannels: Int { weightShape[1] * groups }
    public var kernel: (Int, Int) { (weightShape[2], weightShape[3]) }
    /// The layer's geometry along the rows (height) and the columns (width), with the alignment of
    /// its outputs: a Winograd layer's tile side (its plan runs Winograd exactly where this says so).
    public var rowGeometry: AxisGeometry {
        AxisGeometry(kernel: kernel.0, stride: stride.0, padding: padding.0, outputPadding: outputPadding.0,
                     dilation: dilation.0, alignment: winogradTile ?? 1, phase: winogradTile == nil ? 0 : rowPhase)
    }
    public var colGeometry: AxisGeometry {
        AxisGeometry(kernel: kernel.1, stride: stride.1, padding: padding.1, outputPadding: outputPadding.1,
                     dilation: dilation.1, alignment: winogradTile ?? 1)
    }

    /// The output tile side when the layer runs as Winograd (ConvTransposeWinograd), else nil.
    var winogradTile: Int? {
        ConvTransposeWinograd.tile(kernel: kernel, stride: stride, dilation: dilation, groups: groups,
                                   inChannels: inChannels, outChannels: outChannels)
    }
}

extension ConvTranspose2DPlan {
    /// The plan of a model's layer: its weights, geometry and activation (fused when the kernel
    /// can, else applied after, as the model runs it).
    public init(_ layer: ModelLayer) throws {
        precondition(layer.hasWeight, "a plan is built from a layer's weight as loaded")
        try self.init(weight: layer.weight, bias: layer.bias, stride: layer.stride, padding: layer.padding,
                      outputPadding: layer.outputPadding, groups: layer.groups, dilation: layer.dilation,
                      epilogue: layer.activation)
    }

    /// The plans of `layers` (nil where a layer is nil), built on up to `threads` workers. Each plan
    /// repacks its own layer's weights (Winograd's transform is most of a large model's load time:
    /// 0.27 of 0.37 s for RRDBNet 6 blocks), so the plans do not depend on `threads`. Throws the
    /// error of the first layer, in order, that has no plan.
    static func plans(of layers: [ModelLayer?], threads: Int) throws -> [ConvTranspose2DPlan?] {
        var results = [Result<ConvTranspose2DPlan, any Error>?](repeating: nil, count: layers.count)
        results.withUnsafeMutableBufferPointer { out in
            parallelFor(layers.count, threads: threads) { k in
                guard let layer = layers[k] else { return }
                out[k] = Result { try ConvTranspose2DPlan(layer) }
            }
        }
        return try results.map { try $0?.get() }
    }
}
