// Upscaling an image with a model: colour handling around the tiled stack. The input side
// (modelInput) is here; the output side is the upscale loop's colour stage (Model+Stream.swift).
//
//   rgb model, RGB image    stack on R, G, B
//   rgb model, gray image   gray replicated to R = G = B, stack, output gray = mean of the 3 outputs
//   y model, RGB image      RGB → YCbCr (BT.601, MATLAB rgb2ycbcr); stack on Y; Cb, Cr upscaled
//                           with bicubic; back to RGB
//   y model, gray image     a gray value g is the RGB (g, g, g), whose Y is 16/255 + 219/255·g and
//                           whose Cb = Cr = 128/255: Y = 16/255 + 219/255·g, stack on Y, g' = (Y' − 16/255)·255/219
//   residual "bicubic"      the stack's output is added to the bicubic upscale of the stack's
//                           input (rows of it, from the window of input rows)
//   residual "nearest"      likewise with the nearest-neighbour upscale: output pixel x takes input
//                           pixel x / scale, done in the colour stage's row loop (Model+Stream.swift)
//   input padding P         the stack reads the image extended by P replicated border pixels
//                           (the tile plan's business, Pipeline/TilePlan.swift); residuals and alpha
//                           are upscaled from the image itself
//   alpha                   upscaled with bicubic, separately; the colour is upscaled
//                           premultiplied by it (Resampling/Alpha.swift)
//   finally                 every channel clamped to [0, 1]
//
// Bicubic everywhere is Resize.bicubic: MATLAB imresize, Keys cubic a = −0.5, output pixel x (1-based)
// samples input x/scale + 0.5·(1 − 1/scale), borders mirrored (see Resampling/Resize.swift).

extension Model {
    /// Upscales an image in memory by `scale`: the upscale loop (Pipeline/Model+Stream.swift) reading
    /// the tensors' rows and collecting the output's.
    /// - Parameters:
    ///   - color: (1, 1 | 3, H, W), values in [0, 1] (gray or RGB).
    ///   - alpha: (1, 1, H, W) or nil.
    /// - Returns: color (1, same C, scale·H, scale·W) and alpha (1, 1, scale·H, scale·W), clamped to [0, 1].
    /// - Throws: `ModelError` for wrong shapes, `CancellationError` when `options.isCancelled` says so.
    public func upscale(color: Tensor, alpha: Tensor?, options: RunOptions) throws -> (color: Tensor, alpha: Tensor?) {
        let source = metadata["name"] ?? "<model>"
        guard color.rank == 4, color.shape[0] == 1, color.shape[1] == 1 || color.shape[1] == 3,
              color.shape[2] > 0, color.shape[3] > 0 else {
            throw ModelError("\(source): upscale needs a (1, 1 or 3, H, W) colour tensor with H, W ≥ 1, got \(color.shape)")
        }
        let (h, w) = (color.shape[2], color.shape[3])
        if let alpha, alpha.shape != [1, 1, h, w] {
            throw ModelError("\(source): the alpha tensor has shape \(alpha.shape), expected [1, 1, \(h), \(w)]")
        }
        let output = TensorRows.Collector(width: scale * w, height: scale * h, colorChannels: color.shape[1],
                                          hasAlpha: alpha != nil)
        var stream = StreamOptions()
        stream.run = options
        try upscale(from: TensorRows(color: color, alpha: alpha), to: output, options: stream)
        return (output.color, output.alpha)
    }

    /// What the stack reads and, for a y model on RGB, the chroma that bicubic upscales beside it.
    struct ModelInput {
        var stack: Tensor    // (1, Cmodel, H, W)
        var chroma: Tensor?  // (1, 2, H, W): Cb, Cr; nil unless y model on RGB
    }

    /// color (1, 1 | 3, H, W) → (1, Cmodel, H, W), what the stack reads (e.g. to time the network alone).
    public func stackInput(_ color: Tensor, threads: Int) -> Tensor {
        modelInput(color, threads: threads).stack
    }

    /// color (1, 1 | 3, rows, W) → the stack's input (see the table at the top of the file).
    func modelInput(_ color: Tensor, threads: Int) -> ModelInput {
        let (h, w) = (color.shape[2], color.shape[3])
        switch (channels, color.shape[1]) {
        case (.rgb, 3):
            return ModelInput(stack: color, chroma: nil)
        case (.rgb, _):
            return ModelInput(stack: ColorSpace.grayToRGB(color), chroma: nil)
        case (.y, 3):
            let ycc = ColorSpace.rgbToYCbCr(color, threads: threads)  // (1, 3, H, W)
            let plane = h * w
            return ModelInput(stack: Tensor(shape: [1, 1, h, w], data: Array(ycc.data[0..<plane])),
                              chroma: Tensor(shape: [1, 2, h, w], data: Array(ycc.data[plane..<(3 * plane)])))
        case (.y, _):
            return ModelInput(stack: Tensor(shape: color.shape, data: color.data.map { 16 / 255 + 219 / 255 * $0 }), chroma: nil)
        }
    }
}
