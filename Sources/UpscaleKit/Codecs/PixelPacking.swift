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

    /// `quantize` on 8 values, the same samples. For 0 < value < 1, s = value·maxValue is in
    /// [0, 2^23), so m = s + 2^23 rounds s to an integer once (ties to even) and holds it in its low
    /// mantissa bits; t = m − 2^23 and s − t are exact, and a tie that went down (s − t = ½) goes up,
    /// which is s.rounded() (ties away from zero). Then 0 unless value > 0 (NaN too), maxValue
    /// unless value < 1. No generic float → integer conversion (it does not vectorize). Transparent:
    /// the optimizer left it a call in the packing loops, which cost more than the work.
    @_transparent
    static func quantize(_ value: SIMD8<Float>, maxValue: Float) -> SIMD8<Int32> {
        let magic: Float = 8_388_608  // 2^23, bit pattern 0x4B00_0000
        let s = value * maxValue
        let m = s + magic
        let t = m - magic
        var sample = unsafeBitCast(m, to: SIMD8<Int32>.self) &- 0x4B00_0000  // t as an integer
        sample.replace(with: sample &+ 1, where: s - t .== 0.5)
        sample.replace(with: Int32(maxValue), where: .!(value .< 1))
        sample.replace(with: 0, where: .!(value .> 0))
        return sample
    }

    /// src = channel c's samples of 8 pixels in `samples.c` (c < channels; from `quantize`) / dst = the
    /// first `lanes` pixels, (lanes, channels) samples, 8-bit or 16-bit big-endian: interleaveRow's
    /// bytes. `spareByte`: the byte after the 8th pixel may be written (it is written again later),
    /// which lets 8-bit RGB store each pixel as one 4-byte word.
    @inline(__always)
    static func storePixels(_ samples: (SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>, SIMD8<Int32>), channels: Int,
                            sampleBits: Int, lanes: Int, spareByte: Bool, into dst: UnsafeMutablePointer<UInt8>) {
        func bits(_ s: SIMD8<Int32>) -> SIMD8<UInt32> { unsafeBitCast(s, to: SIMD8<UInt32>.self) }
        if sampleBits == 8 && lanes == 8 {
            switch channels {
            case 1:
                UnsafeMutableRawPointer(dst).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: samples.0), as: SIMD8<UInt8>.self)
                return
            case 2:
                let word = SIMD8<UInt16>(truncatingIfNeeded: bits(samples.0) | bits(samples.1) &<< 8)
                for k in 0..<8 { UnsafeMutableRawPointer(dst + 2 * k).storeBytes(of: word[k].littleEndian, as: UInt16.self) }
                return
            case 3 where spareByte, 4:
                let word = bits(samples.0) | bits(samples.1) &<< 8 | bits(samples.2) &<< 16 | bits(samples.3) &<< 24
                for k in 0..<8 {
                    UnsafeMutableRawPointer(dst + k * channels).storeBytes(of: word[k].littleEndian, as: UInt32.self)
                }
                return
            default:
                break
            }
        }
        for k in 0..<lanes {
            for c in 0..<channels {
                let sample = c == 0 ? samples.0[k] : c == 1 ? samples.1[k] : c == 2 ? samples.2[k] : samples.3[k]
                if sampleBits == 16 {
                    let p = dst + (k * channels + c) * 2
                    p[0] = UInt8(truncatingIfNeeded: sample >> 8)
                    p[1] = UInt8(truncatingIfNeeded: sample)
                } else {
                    dst[k * channels + c] = UInt8(truncatingIfNeeded: sample)
                }
            }
        }
    }

    /// `interleave` into a new array of `band.rows` rows of `rowBytes` bytes (not zero-filled first:
    /// interleave writes every byte).
    static func interleaved(_ band: ImageBand, withAlpha: Bool, sampleBits: Int, rowBytes: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: band.rows * rowBytes) { bytes, initialized in
            interleave(band, withAlpha: withAlpha, sampleBits: sampleBits, into: bytes.baseAddress!)
            initialized = band.rows * rowBytes
        }
    }

    /// src = color (1, C, rows, W) + alpha (1, 1, rows, W) when `withAlpha` (all 1 when the band has
    /// none) / dst = (rows, W, C + alpha) samples, 8-bit or 16-bit big-endian: row by row through
    /// `interleaveRow`.
    static func interleave(_ band: ImageBand, withAlpha: Bool, sampleBits: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let (colorChannels, rows, width) = (band.color.shape[1], band.color.shape[2], band.color.shape[3])
        let rowBytes = width * (colorChannels + (withAlpha ? 1 : 0)) * sampleBits / 8
        band.color.withUnsafeBufferPointer { color in
            withOptionalPointer(withAlpha ? band.alpha : nil) { alpha in
                for r in 0..<rows {
                    let planes = (0..<colorChannels).map { color.baseAddress! + ($0 * rows + r) * width }
                    interleaveRow(planes, alpha: alpha.map { $0 + r * width }, withAlpha: withAlpha, count: width,
                                  sampleBits: sampleBits, into: dst + r * rowBytes)
                }
            }
        }
    }

    /// src = one row of each colour plane (`color[c]`, `count` values) and of alpha (when
    /// `withAlpha`; nil: all 1) / dst = (count, C + alpha) samples, 8-bit or 16-bit big-endian.
    /// 8 pixels at a time through the vector `quantize`, the last ones through the scalar one.
    static func interleaveRow(_ color: [UnsafePointer<Float>], alpha: UnsafePointer<Float>?, withAlpha: Bool,
                              count: Int, sampleBits: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let colorChannels = color.count
        let channels = colorChannels + (withAlpha ? 1 : 0)
        let wide = sampleBits == 16
        let maxValue: Float = wide ? 65535 : 255
        @inline(__always) func put(_ sample: Int32, pixel i: Int, channel c: Int) {
            if wide {
                let p = dst + (i * channels + c) * 2
                p[0] = UInt8(truncatingIfNeeded: sample >> 8)
                p[1] = UInt8(truncatingIfNeeded: sample)
            } else {
                dst[i * channels + c] = UInt8(truncatingIfNeeded: sample)
            }
        }
        // Channel c of the pixels i ..< i + 8: colour, alpha, or 1 (opaque) when there is no alpha row.
        func values(_ c: Int, _ i: Int) -> SIMD8<Float> {
            if c < colorChannels { return UnsafeRawPointer(color[c] + i).loadUnaligned(as: SIMD8<Float>.self) }
            guard let alpha else { return SIMD8(repeating: 1) }
            return UnsafeRawPointer(alpha + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        var i = 0
        // 8-bit RGB or RGBA: pixel k's samples as the bytes of one little-endian word, stored
        // at its first byte; an RGB store's 4th byte lands on the next pixel's first (written
        // after it), so that path stops before the row's last 8 pixels.
        let wordEnd = wide || channels < 3 ? 0 : channels == 4 ? count : count - 1
        while i + 8 <= wordEnd {
            var word = SIMD8<UInt32>(repeating: 0)
            for c in 0..<channels {
                word |= unsafeBitCast(quantize(values(c, i), maxValue: maxValue), to: SIMD8<UInt32>.self) &<< UInt32(8 * c)
            }
            for k in 0..<8 {
                UnsafeMutableRawPointer(dst + (i + k) * channels).storeBytes(of: word[k].littleEndian, as: UInt32.self)
            }
            i += 8
        }
        while i + 8 <= count {
            for c in 0..<channels {
                let samples = quantize(values(c, i), maxValue: maxValue)
                for k in 0..<8 { put(samples[k], pixel: i + k, channel: c) }
            }
            i += 8
        }
        while i < count {
            for c in 0..<channels {
                let value = c < colorChannels ? color[c][i] : (alpha?[i] ?? 1)
                put(Int32(quantize(value, maxValue: maxValue)), pixel: i, channel: c)
            }
            i += 1
        }
    }
}
