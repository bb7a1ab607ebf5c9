// Upscaling an image with a model: colour handling around the tiled stack.
//
//   rgb model, RGB image    stack on R, G, B
//   rgb model, gray image   gray replicated to R = G = B, stack, output gray = mean of the 3 outputs
//   y model, RGB image      RGB → YCbCr (BT.601, MATLAB rgb2ycbcr); stack on Y; Cb, Cr upscaled
//                           with bicubic; back to RGB
//   y model, gray image     a gray value g is the RGB (g, g, g), whose Y is 16/255 + 219/255·g and
//                           whose Cb = Cr = 128/255: Y = 16/255 + 219/255·g, stack on Y, g' = (Y' − 16/255)·255/219
//   residual "bicubic"      the stack's output is added to the bicubic upscale of the stack's
//                           input (the whole image, not tiled)
//   alpha                   upscaled with bicubic, separately
//   finally                 every channel clamped to [0, 1]
//
// Bicubic everywhere is Resize.bicubic: MATLAB imresize, Keys cubic a = −0.5, output pixel x (1-based)
// samples input x/scale + 0.5·(1 − 1/scale), borders mirrored (see Image/Resize.swift).

extension Model {
    /// Upscales an image by `scale`.
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
        let threads = max(1, options.threads)
        let tracker = RunTracker(options: options,
                                 total: tileCount(height: h, width: w, options: options) * (options.tta ? 8 : 1))
        // x (1, Cmodel, H, W) → (1, Cmodel, sH, sW): stack (+ bicubic residual).
        func predict(_ x: Tensor) throws -> Tensor {
            var y = try runStack(x, options: options, tracker: tracker)
            if residual == .bicubic {
                let base = Resize.bicubicUpscale(x, factor: scale, threads: threads)
                y.withUnsafeMutableBufferPointer { out in for i in 0..<out.count { out[i] += base.data[i] } }
            }
            return y
        }
        var result: Tensor
        switch (channels, color.shape[1]) {
        case (.rgb, 3):
            result = try predict(color)
        case (.rgb, _):
            let out = try predict(Tensor(shape: [1, 3, h, w], data: color.data + color.data + color.data))
            let plane = out.shape[2] * out.shape[3]
            var gray = [Float](repeating: 0, count: plane)
            for i in 0..<plane { gray[i] = (out.data[i] + out.data[plane + i] + out.data[2 * plane + i]) / 3 }
            result = Tensor(shape: [1, 1, out.shape[2], out.shape[3]], data: gray)
        case (.y, 3):
            let ycc = ColorSpace.rgbToYCbCr(color)  // (1, 3, H, W)
            let plane = h * w
            let luma = Tensor(shape: [1, 1, h, w], data: Array(ycc.data[0..<plane]))
            let chroma = Tensor(shape: [1, 2, h, w], data: Array(ycc.data[plane..<(3 * plane)]))
            let lumaUp = try predict(luma)  // (1, 1, sH, sW)
            let chromaUp = Resize.bicubic(chroma, height: scale * h, width: scale * w, threads: threads)
            result = ColorSpace.yCbCrToRGB(Tensor(shape: [1, 3, scale * h, scale * w], data: lumaUp.data + chromaUp.data))
        case (.y, _):
            let luma = Tensor(shape: color.shape, data: color.data.map { 16 / 255 + 219 / 255 * $0 })
            let lumaUp = try predict(luma)
            result = Tensor(shape: lumaUp.shape, data: lumaUp.data.map { ($0 - 16 / 255) * (255 / 219) })
        }
        clamp(&result)
        var alphaUp: Tensor? = nil
        if let alpha {
            var a = Resize.bicubicUpscale(alpha, factor: scale, threads: threads)
            clamp(&a)
            alphaUp = a
        }
        return (result, alphaUp)
    }

    private func clamp(_ t: inout Tensor) {
        t.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] = min(max(x[i], 0), 1) } }
    }
}
