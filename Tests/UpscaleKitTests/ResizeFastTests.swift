// The vector resize passes (Resampling/Resize+Fast.swift) against the scalar reference passes
// (Resampling/Resize+Reference.swift), bit for bit, over seeded random planes: every width and height
// that has a border-only or a short interior, factors 2, 3 and 4, bands starting mid-image,
// non-integer scales and the quantized passes. Values include negatives, > 1 and signed zeros.
import Testing
@testable import UpscaleKit

/// The index of the first element whose bits differ (or the shorter count), nil when identical.
func firstBitDifference(_ a: [Float], _ b: [Float]) -> Int? {
    if let i = (0..<min(a.count, b.count)).first(where: { a[$0].bitPattern != b[$0].bitPattern }) { return i }
    return a.count == b.count ? nil : min(a.count, b.count)
}

/// (1, channels, height, width) of seeded values in [−1.5, 2.5], every 13th an exact ±0.
func resizeTestPlanes(channels: Int, height: Int, width: Int, seed: UInt64) -> Tensor {
    var rng = SeededRandom(seed: seed)
    var data = rng.floats(channels * height * width, -1.5...2.5)
    for i in stride(from: 0, to: data.count, by: 13) { data[i] = i % 26 == 0 ? 0 : -0.0 }
    return Tensor(shape: [1, channels, height, width], data: data)
}

@Suite struct ResizeFastTests {
    static let lengths = [1, 2, 3, 5, 7, 8, 9, 17, 33]

    @Test(arguments: [2, 3, 4])
    func integerUpscaleMatchesScalarReference(factor: Int) {
        for height in Self.lengths {
            for width in Self.lengths + [64, 101] {
                let t = resizeTestPlanes(channels: 2, height: height, width: width, seed: UInt64(factor * 10_000 + height * 100 + width))
                let fast = Resize.bicubicUpscale(t, factor: factor, threads: 2)
                let reference = Resize.bicubicReference(t, height: factor * height, width: factor * width)
                let bad = firstBitDifference(fast.data, reference.data)
                #expect(fast.shape == reference.shape && bad == nil,
                        "×\(factor) \(height)×\(width): element \(bad ?? -1) is \(bad.map { fast.data[$0] } ?? .nan), reference \(bad.map { reference.data[$0] } ?? .nan)")
            }
        }
    }

    @Test(arguments: [2, 3, 4])
    func eachPassAloneMatchesScalarReference(factor: Int) {
        // The passes fed directly (a height pass turns every −0 into +0 before the width pass sees it).
        for length in Self.lengths + [64] {
            let t = resizeTestPlanes(channels: 2, height: 3, width: length, seed: UInt64(factor * 100 + length))
            let cols = Resize.contributions(inLength: length, outLength: factor * length, scale: Double(factor))
            let fast = Resize.resizeWidth(t, taps: Resize.WidthTaps(cols, inLength: length), quantize: false, threads: 2)
            let reference = Resize.resizeWidthReference(t, contributions: cols, quantize: false)
            let bad = firstBitDifference(fast.data, reference.data)
            #expect(bad == nil, "width pass ×\(factor) W=\(length): element \(bad ?? -1)")

            let u = resizeTestPlanes(channels: 2, height: length, width: 19, seed: UInt64(factor * 1000 + length))
            let rows = Resize.contributions(inLength: length, outLength: factor * length, scale: Double(factor))
            let outRows = (factor * length / 3)..<(factor * length)
            let fastRows = Resize.resizeRows(u, rowOrigin: 0, rows: rows, outRows: outRows, quantize: false, threads: 2)
            let referenceRows = Resize.resizeRowsReference(u, rowOrigin: 0, rows: rows, outRows: outRows, quantize: false)
            let badRow = firstBitDifference(fastRows.data, referenceRows.data)
            #expect(badRow == nil, "height pass ×\(factor) H=\(length) rows \(outRows): element \(badRow ?? -1)")
        }
    }

    @Test(arguments: [2, 3, 4])
    func largePlaneMatchesScalarReference(factor: Int) {
        // Long rows: many vector chunks per phase, then a scalar tail. (A last-bit slip in the
        // Double sums, such as an fma, rarely survives the rounding to Float: these tests catch
        // wrong taps, weights, signed zeros and placement, not every double-rounding change.)
        let t = resizeTestPlanes(channels: 1, height: 24, width: 640, seed: UInt64(factor))
        let fast = Resize.bicubicUpscale(t, factor: factor, threads: 2)
        let reference = Resize.bicubicReference(t, height: factor * 24, width: factor * 640)
        let bad = firstBitDifference(fast.data, reference.data)
        #expect(bad == nil, "×\(factor) 24×640: element \(bad ?? -1) of \(fast.count)")
    }

    @Test(arguments: [2, 3, 4])
    func bandRowsMatchTheWholeImageReference(factor: Int) {
        for (height, width) in [(1, 9), (5, 7), (9, 33), (17, 8), (33, 40)] {
            let t = resizeTestPlanes(channels: 2, height: height, width: width, seed: UInt64(factor * 777 + height * 31 + width))
            let whole = Resize.bicubicReference(t, height: factor * height, width: factor * width)  // (1, 2, fH, fW)
            let taps = Resize.BicubicTaps(height: height, width: width, factor: factor)
            let outH = factor * height, outW = factor * width
            for outRows in [0..<outH, (outH / 3)..<(outH / 3 + 1), (outH / 3)..<(2 * outH / 3 + 1), (outH - 1)..<outH] {
                let reads = taps.inputRows(outRows)
                let band = Tensor(shape: [1, 2, reads.count, width],
                                  data: (0..<2).flatMap { c in t.data[(c * height + reads.lowerBound) * width ..< (c * height + reads.upperBound) * width] })
                let fast = Resize.bicubicUpscaleRows(band, rowOrigin: reads.lowerBound, height: height, factor: factor,
                                                     outRows: outRows, taps: taps, threads: 2)
                let expected = (0..<2).flatMap { c in whole.data[(c * outH + outRows.lowerBound) * outW ..< (c * outH + outRows.upperBound) * outW] }
                let bad = firstBitDifference(fast.data, expected)
                #expect(bad == nil, "×\(factor) \(height)×\(width) rows \(outRows) from band \(reads): element \(bad ?? -1)")
            }
        }
    }

    @Test func otherScalesAndQuantizedPassesMatchScalarReference() {
        for (h, w, outH, outW) in [(9, 17, 4, 7), (33, 33, 50, 47), (8, 64, 8, 192), (17, 9, 51, 9), (5, 40, 13, 100), (2, 3, 1, 1)] {
            for quantize in [false, true] {
                let t = resizeTestPlanes(channels: 3, height: h, width: w, seed: UInt64(h * 1000 + w + (quantize ? 1 : 0)))
                let fast = Resize.bicubic(t, height: outH, width: outW, quantize8Bit: quantize, threads: 2)
                let reference = Resize.bicubicReference(t, height: outH, width: outW, quantize8Bit: quantize)
                let bad = firstBitDifference(fast.data, reference.data)
                #expect(bad == nil, "\(h)×\(w) → \(outH)×\(outW) quantize \(quantize): element \(bad ?? -1)")
            }
        }
    }

    @Test(arguments: [2, 3, 4])
    func wideRowsTakeThePhaseLoop(factor: Int) {
        // Guards the tests above against passing because every output took the scalar gather.
        let c = Resize.contributions(inLength: 33, outLength: factor * 33, scale: Double(factor))
        let taps = Resize.WidthTaps(c, inLength: 33)
        #expect(taps.factor == factor && taps.interior.count >= 24, "×\(factor): interior \(taps.interior)")
    }
}

/// The colour stage's Float bicubic (Resize.bicubicRowFloat) against the MATLAB-exact Double
/// reference: every output row of every plane within 1e-6 of it on values in [−1.5, 2.5] (a few
/// Float ulps; an 8-bit step is 4e-3), at each integer factor and at widths with and without a
/// vector interior, read from bands that start at any row.
@Test(arguments: [2, 3, 4])
func floatBicubicRowsStayWithinFloatRoundingOfTheReference(factor: Int) {
    for (height, width) in [(1, 1), (1, 9), (5, 7), (9, 33), (17, 8), (6, 301)] {
        let t = resizeTestPlanes(channels: 2, height: height, width: width, seed: UInt64(factor * 91 + height * 7 + width))
        let reference = Resize.bicubicReference(t, height: factor * height, width: factor * width)  // (1, 2, fH, fW)
        let taps = Resize.FloatBicubicTaps(Resize.BicubicTaps(height: height, width: width, factor: factor))
        let (outH, outW) = (factor * height, factor * width)
        var worst: Float = 0
        var short = [Float](repeating: 0, count: width), row = [Float](repeating: 0, count: outW)
        t.data.withUnsafeBufferPointer { planes in
            taps.withPointers { p in
                for c in 0..<2 {
                    for o in 0..<outH {
                        let reads = Resize.BicubicTaps(height: height, width: width, factor: factor).inputRows(o..<(o + 1))
                        let band = planes.baseAddress! + (c * height + reads.lowerBound) * width
                        Resize.bicubicRowFloat(p, plane: band, rowOrigin: reads.lowerBound, width: width, output: o,
                                               short: &short, into: &row)
                        for x in 0..<outW {
                            worst = max(worst, abs(row[x] - reference.data[(c * outH + o) * outW + x]))
                        }
                    }
                }
            }
        }
        #expect(worst <= 1e-6, "×\(factor) \(height)×\(width): max |Float − Double| = \(worst)")
    }
}
