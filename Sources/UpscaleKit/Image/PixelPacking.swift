// Interleaved integer samples <-> planar float tensors.
//
//   decode: value = Float(sample) / (2^bits − 1)              bits = 8 or 16, 16-bit big-endian (by table)
//   encode: sample = round(clamp(value, 0, 1) · (2^bits − 1))  NaN → 0, ties away from zero
//
// Interleaved layout (libpng/libjpeg rows): (rows, W, channels) with channels = 1 gray,
// 2 gray+alpha, 3 RGB, 4 RGBA; planar: color (1, C, rows, W) with C = 1 or 3, alpha (1, 1, rows, W).

enum PixelPacking {
    /// value8[s] = Float(s) / 255 and value16[s] = Float(s) / 65535, correctly rounded divisions.
    static let value8: [Float] = (0..<256).map { Float($0) / 255 }
    static let value16: [Float] = (0..<65536).map { Float($0) / 65535 }

    /// src = (rows, W, channels) samples / dst = color (1, C, rows, W) + alpha (1, 1, rows, W).
    static func deinterleave(_ src: UnsafePointer<UInt8>, rows: Int, width: Int, channels: Int,
                             sampleBits: Int) -> ImageBand {
        let colorChannels = channels >= 3 ? 3 : 1
        let hasAlpha = channels == 2 || channels == 4
        let plane = rows * width
        var color = [Float](repeating: 0, count: colorChannels * plane)  // (C, rows, W)
        var alpha = [Float](repeating: 0, count: hasAlpha ? plane : 0)   // (rows, W)
        color.withUnsafeMutableBufferPointer { colorOut in
            alpha.withUnsafeMutableBufferPointer { alphaOut in
                if sampleBits == 16 {
                    value16.withUnsafeBufferPointer { value in
                    for i in 0..<plane {
                        let p = src + i * channels * 2
                        for c in 0..<colorChannels {
                            colorOut[c * plane + i] = value[Int(p[2 * c]) << 8 | Int(p[2 * c + 1])]
                        }
                        if hasAlpha {
                            let a = 2 * colorChannels
                            alphaOut[i] = value[Int(p[a]) << 8 | Int(p[a + 1])]
                        }
                    }
                    }
                } else {
                    value8.withUnsafeBufferPointer { value in
                    for i in 0..<plane {
                        let p = src + i * channels
                        for c in 0..<colorChannels { colorOut[c * plane + i] = value[Int(p[c])] }
                        if hasAlpha { alphaOut[i] = value[Int(p[colorChannels])] }
                    }
                    }
                }
            }
        }
        return ImageBand(color: Tensor(shape: [1, colorChannels, rows, width], data: color),
                         alpha: hasAlpha ? Tensor(shape: [1, 1, rows, width], data: alpha) : nil)
    }

    /// One float in [0, 1] to an integer sample in 0...maxValue, rounded to nearest.
    @inline(__always)
    static func quantize(_ value: Float, maxValue: Float) -> Int {
        guard value > 0 else { return 0 }  // also NaN
        guard value < 1 else { return Int(maxValue) }
        return Int((value * maxValue).rounded())
    }

    /// src = color (1, C, rows, W) + alpha (1, 1, rows, W) when `withAlpha` /
    /// dst = (rows, W, C + alpha) samples, 8-bit or 16-bit big-endian.
    static func interleave(_ band: ImageBand, withAlpha: Bool, sampleBits: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let colorChannels = band.color.shape[1]
        let plane = band.color.shape[2] * band.color.shape[3]
        let channels = colorChannels + (withAlpha ? 1 : 0)
        band.color.withUnsafeBufferPointer { color in
            let alphaData = withAlpha ? band.alpha?.data : nil
            if sampleBits == 16 {
                for i in 0..<plane {
                    let p = dst + i * channels * 2
                    for c in 0..<channels {
                        let value = c < colorChannels ? color[c * plane + i] : (alphaData?[i] ?? 1)
                        let sample = quantize(value, maxValue: 65535)
                        p[2 * c] = UInt8(sample >> 8)
                        p[2 * c + 1] = UInt8(sample & 0xFF)
                    }
                }
            } else {
                for i in 0..<plane {
                    let p = dst + i * channels
                    for c in 0..<colorChannels { p[c] = UInt8(quantize(color[c * plane + i], maxValue: 255)) }
                    if withAlpha { p[colorChannels] = UInt8(quantize(alphaData?[i] ?? 1, maxValue: 255)) }
                }
            }
        }
    }
}
