// The vector per-pixel stages against their scalar formulas, written out here as the oracle, bit
// for bit: the colour maps (Resampling/ColorSpace.swift: Double, `a + m0·p0 + m1·p1 + m2·p2` left to right,
// a separate × and +, clamped as min(max(v, 0), 1)) and the float → sample packing
// (Codecs/PixelPacking.swift: round(clamp(v)·max) ties away from zero, NaN → 0). Pixel counts cover
// no full vector, a vector and a tail, and a tail after a 64 Ki-pixel chunk.
import Testing
@testable import UpscaleKit

@Suite struct PixelFastTests {
    static let planeSizes: [(h: Int, w: Int)] = [(1, 1), (1, 7), (1, 8), (3, 3), (1, 17), (33, 33), (257, 273)]

    /// out_c = after_c + Σ_k m[c][k]·(in_k − before_k) in Double, the scalar way.
    static func affineOracle(_ p: (Float, Float, Float), _ m: [[Double]], before: [Double], after: [Double]) -> [Double] {
        let (p0, p1, p2) = (Double(p.0) - before[0], Double(p.1) - before[1], Double(p.2) - before[2])
        return (0..<3).map { c in after[c] + m[c][0] * p0 + m[c][1] * p1 + m[c][2] * p2 }
    }

    @Test func colourMapsMatchTheScalarFormula() {
        for (h, w) in Self.planeSizes {
            let plane = h * w
            var rng = SeededRandom(seed: UInt64(plane))
            var data = rng.floats(3 * plane, -0.5...1.5)
            for i in stride(from: 0, to: data.count, by: 11) { data[i] = i % 22 == 0 ? 0 : -0.0 }
            let t = Tensor(shape: [1, 3, h, w], data: data)

            let ycc = ColorSpace.rgbToYCbCr(t)
            let rgb = ColorSpace.yCbCrToRGB(t)
            let clamped = ColorSpace.yCbCrToRGBClamped(luma: Tensor(shape: [1, 1, h, w], data: Array(data[0..<plane])),
                                                       chroma: Tensor(shape: [1, 2, h, w], data: Array(data[plane...])),
                                                       threads: 2)
            var (expectYcc, expectRgb, expectClamped) = ([Float](repeating: 0, count: 3 * plane), [Float](repeating: 0, count: 3 * plane),
                                                         [Float](repeating: 0, count: 3 * plane))
            for i in 0..<plane {
                let p = (data[i], data[plane + i], data[2 * plane + i])
                let f = Self.affineOracle(p, ColorSpace.forward, before: [0, 0, 0], after: ColorSpace.offset)
                let b = Self.affineOracle(p, ColorSpace.inverse, before: ColorSpace.offset, after: [0, 0, 0])
                for c in 0..<3 {
                    expectYcc[c * plane + i] = Float(f[c])
                    expectRgb[c * plane + i] = Float(b[c])
                    expectClamped[c * plane + i] = min(max(Float(b[c]), 0), 1)
                }
            }
            for (name, got, expected) in [("rgbToYCbCr", ycc.data, expectYcc), ("yCbCrToRGB", rgb.data, expectRgb),
                                          ("yCbCrToRGBClamped", clamped.data, expectClamped)] {
                let bad = firstBitDifference(got, expected)
                #expect(bad == nil, "\(name) \(h)×\(w): element \(bad ?? -1) is \(bad.map { got[$0] } ?? .nan), expected \(bad.map { expected[$0] } ?? .nan)")
            }
        }
    }

    /// Values every rounding boundary sits between: k + ½ steps and their neighbours, the ends, NaN, ±∞.
    static func packingValues(maxValue: Float, count: Int, seed: UInt64) -> [Float] {
        var values: [Float] = [0, -0.0, 1, Float(1).nextDown, Float(1).nextUp, .nan, .infinity, -.infinity,
                               .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.5, -1, 2]
        let steps = maxValue == 255 ? Array(0..<255) : Array(stride(from: 0, to: 65535, by: 97)) + [65533, 65534]
        for k in steps {
            let edge = Float((Double(k) + 0.5) / Double(maxValue))
            values += [edge, edge.nextDown, edge.nextUp, edge.nextDown.nextDown, edge.nextUp.nextUp]
        }
        var rng = SeededRandom(seed: seed)
        values += rng.floats(max(0, count - values.count), -0.25...1.25)
        return Array(values.prefix(count))
    }

    /// The documented sample: 0 unless value > 0, maxValue unless value < 1, else round(value·maxValue) ties away.
    static func sampleOracle(_ value: Float, maxValue: Float) -> Int {
        value > 0 ? (value < 1 ? Int((value * maxValue).rounded(.toNearestOrAwayFromZero)) : Int(maxValue)) : 0
    }

    @Test(arguments: [8, 16])
    func interleaveMatchesTheScalarRounding(sampleBits: Int) {
        let maxValue: Float = sampleBits == 16 ? 65535 : 255
        for (h, w) in Self.planeSizes + [(9, 160)] {
            let plane = h * w
            for (colorChannels, alphaMode) in [(1, 0), (3, 0), (1, 1), (3, 1), (3, 2)] {  // alpha: 0 none, 1 plane, 2 written as 1
                let values = Self.packingValues(maxValue: maxValue, count: (colorChannels + 1) * plane,
                                                seed: UInt64(plane * 10 + colorChannels + sampleBits))
                let color = Array(values[0..<(colorChannels * plane)])
                let alpha = alphaMode == 1 ? Array(values[(colorChannels * plane)...]) : nil
                let band = ImageBand(color: Tensor(shape: [1, colorChannels, h, w], data: color),
                                     alpha: alpha.map { Tensor(shape: [1, 1, h, w], data: $0) })
                let channels = colorChannels + (alphaMode > 0 ? 1 : 0)
                let bytes = sampleBits / 8
                var got = [UInt8](repeating: 0xA5, count: plane * channels * bytes)
                got.withUnsafeMutableBufferPointer {
                    PixelPacking.interleave(band, withAlpha: alphaMode > 0, sampleBits: sampleBits, into: $0.baseAddress!)
                }
                var expected = [UInt8](repeating: 0, count: got.count)
                for i in 0..<plane {
                    for c in 0..<channels {
                        let value = c < colorChannels ? color[c * plane + i] : (alpha?[i] ?? 1)
                        let sample = Self.sampleOracle(value, maxValue: maxValue)
                        if bytes == 2 {
                            expected[(i * channels + c) * 2] = UInt8(sample >> 8)
                            expected[(i * channels + c) * 2 + 1] = UInt8(sample & 0xFF)
                        } else {
                            expected[i * channels + c] = UInt8(sample)
                        }
                    }
                }
                let bad = (0..<got.count).first { got[$0] != expected[$0] }
                #expect(bad == nil, "\(sampleBits)-bit C=\(colorChannels) alpha \(alphaMode) \(h)×\(w): byte \(bad ?? -1) is \(bad.map { got[$0] } ?? 0), expected \(bad.map { expected[$0] } ?? 0), value \(bad.map { values.indices.contains($0 / bytes / channels) ? "\(values[$0 / bytes / channels])" : "?" } ?? "")")
            }
        }
    }
}
