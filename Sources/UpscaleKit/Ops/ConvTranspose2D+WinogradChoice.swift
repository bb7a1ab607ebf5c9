// Which conv_transpose2d layers run as Winograd (+Winograd), as a pure function of the layer's
// parameters: never of the CPU, the image or the window. The tiling geometry reads it too: a
// Winograd layer's outputs are computed in m × m tiles anchored at multiples of m of the whole
// output map, and each tile reads the (m + 2) × (m + 2) input patch under it, so a window of such
// a layer must be computed from whole tiles (see ConvTranspose2D+Winograd.swift, "Determinism").

/// The layers that take the Winograd kernel and its output tile.
enum ConvTransposeWinograd {
    /// Fewest input and output channels of the layers that take F(4×4, 3×3). The built-in models'
    /// 16 → 16 layers keep +Wide (their bits must not change); 32 is the narrowest layer of the
    /// issue-26 networks (upconv_7's 16 → 32 and 32 → 64, RRDBNet's growth channels), measured
    /// faster than +Direct/+Wide at 32 channels on Zen 4 (BENCHMARKS.md, issue 26, Winograd).
    static let minChannels = (input: 32, output: 32)

    /// Whether `.automatic` takes the Winograd kernel where `tile` is non-nil: yes, since the tiling
    /// geometry rounds every window out to whole tiles (AxisGeometry.alignment, which ModelLayer
    /// sets from `tile`), so tiled, banded and streamed runs give the whole-image bits.
    /// `.winograd` forces the kernel regardless (tests, benchmarks).
    static let automaticEnabled = true

    /// The output tile side m (4 for F(4×4,3×3), 6 for F(6×6,3×3)) of a layer that runs as Winograd, or nil.
    static func tile(kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int), groups: Int,
                     inChannels: Int, outChannels: Int) -> Int? {
        guard kernel == (3, 3), stride == (1, 1), dilation == (1, 1), groups == 1,
              inChannels >= minChannels.input, outChannels >= minChannels.output else { return nil }
        return 4
    }

    /// `tile` for a layer with geometry `g` (its parameters; the image size is ignored).
    static func tile(_ g: ConvTranspose2DGeometry) -> Int? {
        tile(kernel: (g.kernelHeight, g.kernelWidth), stride: (g.strideH, g.strideW),
             dilation: (g.dilationH, g.dilationW), groups: g.groups,
             inChannels: g.inChannels, outChannels: g.outChannels)
    }
}
