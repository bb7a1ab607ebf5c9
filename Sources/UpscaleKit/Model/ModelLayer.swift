/// What the model's image channels mean: `rgb` sees R, G, B in [0, 1]; `y` sees BT.601 luma Y
/// (MATLAB's rgb2ycbcr, Y ∈ [16/255, 235/255]) and its chroma is upscaled with bicubic.
public enum ModelChannels: String, Sendable {
    case rgb, y

    /// The number of channels the stack's first layer reads and its last layer writes.
    public var count: Int { self == .rgb ? 3 : 1 }
}

/// Whether the stack predicts the image (`none`) or a residual over an upscale of its input: the
/// bicubic one (`bicubic`) or the nearest-neighbour one (`nearest`, PyTorch's `F.interpolate(mode="nearest")`
/// at an integer scale: output pixel (y, x) is input pixel (⌊y/scale⌋, ⌊x/scale⌋)).
public enum ModelResidual: String, Sendable, CaseIterable {
    case none, bicubic, nearest
}

/// One layer: `conv_transpose2d` (PyTorch semantics, see Ops/ConvTranspose2D.swift) then an activation.
public struct ModelLayer: Sendable {
    public var weight: Tensor            // (Cin, Cout/groups, kH, kW), PyTorch's layout
    public var bias: Tensor?             // (Cout)
    public var stride: (Int, Int)
    public var padding: (Int, Int)
    public var outputPadding: (Int, Int)
    public var dilation: (Int, Int)
    public var groups: Int
    public var activation: Activation

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

    /// Input channels (weight dim 0).
    public var inChannels: Int { weight.shape[0] }
    /// Output channels (weight dim 1 · groups).
    public var outChannels: Int { weight.shape[1] * groups }
    public var kernel: (Int, Int) { (weight.shape[2], weight.shape[3]) }
}

/// How `Model.upscale` and `Model.runStack` run.
public struct RunOptions {
    /// Input pixels per tile side (the output tile is `scale ×` that).
    public var tileSize = 256
    /// Worker threads for every parallel loop of the run: tiles, convolutions, resizing, colour
    /// and clamps. The result is bit-identical for any value.
    public var threads = Threading.coreCount
    /// Test-time augmentation: run the 8 flips/rotations and average them.
    public var tta = false
    /// Called after each finished tile, serialised (never two calls at once), with tilesDone increasing.
    /// With `tta`, tilesTotal counts the tiles of all 8 passes.
    public var progress: ((_ tilesDone: Int, _ tilesTotal: Int) -> Void)? = nil
    /// Polled before each tile; when it returns true the run stops promptly and throws `CancellationError`.
    public var isCancelled: (() -> Bool)? = nil

    public init() {}
}
