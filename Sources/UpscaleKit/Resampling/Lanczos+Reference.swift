// The reference Lanczos-3 resize of a whole image: the formula of Lanczos.swift as plain loops, in
// Double. The streaming resampler (LanczosRowWriter) is tested against it; it is tested against
// Pillow's resize (Fixtures/lanczos).
//
//   clamp         every input value to [0, 1] (the model's output overshoots; writers store it clamped)
//   premultiply   p_c = color_c · alpha                           (when the image has alpha)
//   rows          h_c[y][x] = Σ_i wx_i(x) · p_c[y][start_x(x) + i]
//   columns       o_c[y][x] = Σ_j wy_j(y) · h_c[start_y(y) + j][x]
//   unpremultiply color_c = o_c / o_alpha when o_alpha > 0, else 0 (then clamped to [0, 1])
//   clamp         every output value to [0, 1] (the lobes overshoot at edges)

extension Lanczos {
    /// `image`'s planes resized to `width`×`height`. color: (1, C, H, W), alpha: (1, 1, H, W).
    public static func referenceResize(_ band: ImageBand, width: Int, height: Int) -> ImageBand {
        let (channels, inH, inW) = (band.color.shape[1], band.color.shape[2], band.color.shape[3])
        let hasAlpha = band.alpha != nil
        let planes = channels + (hasAlpha ? 1 : 0)
        let alpha = band.alpha?.data
        // (planes, inH, inW), colour premultiplied; alpha last.
        var input = [Double](repeating: 0, count: planes * inH * inW)
        func clamped(_ v: Float) -> Double { Double(min(1, max(0, v))) }
        for c in 0..<planes {
            for k in 0..<(inH * inW) {
                let value = c < channels ? clamped(band.color.data[c * inH * inW + k]) : clamped(alpha![k])
                input[c * inH * inW + k] = c < channels && hasAlpha ? value * clamped(alpha![k]) : value
            }
        }
        let tx = Taps(inSize: inW, outSize: width), ty = Taps(inSize: inH, outSize: height)
        var rows = [Double](repeating: 0, count: planes * inH * width)   // (planes, inH, width)
        for c in 0..<planes {
            for y in 0..<inH {
                for x in 0..<width {
                    var sum = 0.0
                    for i in 0..<tx.count[x] {
                        sum += Double(tx.weights[x * tx.stride + i]) * input[(c * inH + y) * inW + tx.start[x] + i]
                    }
                    rows[(c * inH + y) * width + x] = sum
                }
            }
        }
        var out = [Double](repeating: 0, count: planes * height * width)  // (planes, height, width)
        for c in 0..<planes {
            for y in 0..<height {
                for x in 0..<width {
                    var sum = 0.0
                    for j in 0..<ty.count[y] {
                        sum += Double(ty.weights[y * ty.stride + j]) * rows[(c * inH + ty.start[y] + j) * width + x]
                    }
                    out[(c * height + y) * width + x] = sum
                }
            }
        }
        let plane = height * width
        var color = [Float](repeating: 0, count: channels * plane)
        var alphaOut = [Float](repeating: 0, count: hasAlpha ? plane : 0)
        for k in 0..<plane {
            let a = hasAlpha ? out[channels * plane + k] : 1
            for c in 0..<channels {
                let value = hasAlpha ? (a > 0 ? out[c * plane + k] / a : 0) : out[c * plane + k]
                color[c * plane + k] = Float(min(1, max(0, value)))
            }
            if hasAlpha { alphaOut[k] = Float(min(1, max(0, a))) }
        }
        return ImageBand(color: Tensor(shape: [1, channels, height, width], data: color),
                         alpha: hasAlpha ? Tensor(shape: [1, 1, height, width], data: alphaOut) : nil)
    }
}
