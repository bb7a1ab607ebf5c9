// What a model's image channels mean, and what its stack predicts.

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
