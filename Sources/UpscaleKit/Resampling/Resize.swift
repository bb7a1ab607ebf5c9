// Bicubic resampling exactly as MATLAB's imresize(I, [outH outW], 'bicubic'): the degradation and
// the baseline of the super-resolution literature, and the upscale used for a model's residual,
// its chroma and its alpha.
//
//   kernel   Keys cubic, a = −0.5, support 4; when shrinking by scale < 1 it becomes
//            scale·cubic(scale·x) with support 4/scale (antialiasing)
//   grid     output pixel x (1-based) samples input coordinate u = x/scale + 0.5·(1 − 1/scale)
//   borders  taps outside the image mirror symmetrically (… 1 0 | 0 1 2 … n−1 | n−1 n−2 …)
//   weights  normalised to sum 1 per output pixel; the axis with the smaller scale is resized
//            first (rows first when equal), as MATLAB does
//   quantize optionally round to 1/255 steps and clamp to [0, 1] after each axis, which is what
//            MATLAB does for uint8 images (the literature's LR images are made that way)
// training/matlab_resize.py is the same function in NumPy; the two are cross-checked in tests.
// The passes: Resize+Fast.swift (vectorized, what runs) and Resize+Reference.swift (scalar, the
// oracle the fast passes match bit for bit).

import Foundation

public enum Resize {
    /// Resizes every (n, c) plane of `t` (N, C, H, W) to (N, C, height, width).
    /// - Precondition: `t` has rank 4 and a non-empty plane; `height`, `width` ≥ 1.
    public static func bicubic(_ t: Tensor, height: Int, width: Int, quantize8Bit: Bool = false,
                               threads: Int = Threading.coreCount) -> Tensor {
        precondition(t.rank == 4 && t.shape[2] > 0 && t.shape[3] > 0 && height > 0 && width > 0,
                     "Resize.bicubic needs a non-empty (N, C, H, W) tensor and a positive size")
        let (inH, inW) = (t.shape[2], t.shape[3])
        let scaleH = Double(height) / Double(inH), scaleW = Double(width) / Double(inW)
        if scaleW < scaleH {
            let narrow = resizeWidth(t, to: width, scale: scaleW, quantize: quantize8Bit, threads: threads)
            return resizeHeight(narrow, to: height, scale: scaleH, quantize: quantize8Bit, threads: threads)
        }
        let short = resizeHeight(t, to: height, scale: scaleH, quantize: quantize8Bit, threads: threads)
        return resizeWidth(short, to: width, scale: scaleW, quantize: quantize8Bit, threads: threads)
    }

    /// Upscales by an integer factor: (N, C, H, W) → (N, C, factor·H, factor·W).
    public static func bicubicUpscale(_ t: Tensor, factor: Int, threads: Int = Threading.coreCount) -> Tensor {
        bicubic(t, height: t.shape[2] * factor, width: t.shape[3] * factor, threads: threads)
    }

    /// Rows `outRows` of `bicubicUpscale(image, factor:)` for an image of `height` rows, from a band
    /// `band` (N, C, rows, W) holding the image's rows `rowOrigin ..< rowOrigin + rows`; the band
    /// must hold every row `inputRows(...)` names. Bit-identical to the same rows of the whole-image
    /// upscale: the same taps (mirrored at the true border) summed in the same order.
    /// - Returns: (N, C, outRows.count, factor·W).
    public static func bicubicUpscaleRows(_ band: Tensor, rowOrigin: Int, height: Int, factor: Int, outRows: Range<Int>,
                                          taps: BicubicTaps, threads: Int = Threading.coreCount) -> Tensor {
        precondition(band.rank == 4 && taps.rows.index.count == factor * height * taps.rows.taps
                     && taps.cols.index.count == factor * band.shape[3] * taps.cols.taps,
                     "bicubicUpscaleRows: taps made for another size")
        let short = resizeRows(band, rowOrigin: rowOrigin, rows: taps.rows, outRows: outRows, quantize: false, threads: threads)
        return resizeWidth(short, taps: taps.colsByPhase, quantize: false, threads: threads)
    }

    /// The taps of both axes of an integer-factor upscale of a height × width image, made once
    /// per image for `bicubicUpscaleRows`.
    public struct BicubicTaps: Sendable {
        public let rows: Contributions
        public let cols: Contributions
        let colsByPhase: WidthTaps  // `cols` with the phase-major table of the width pass

        public init(height: Int, width: Int, factor: Int) {
            rows = Resize.contributions(inLength: height, outLength: factor * height, scale: Double(factor))
            cols = Resize.contributions(inLength: width, outLength: factor * width, scale: Double(factor))
            colsByPhase = WidthTaps(cols, inLength: width)
        }

        /// The input rows output rows `outRows` tap (a range covering every tap with a nonzero weight).
        public func inputRows(_ outRows: Range<Int>) -> Range<Int> {
            var (lo, hi) = (Int.max, Int.min)
            for o in outRows {
                for j in 0..<rows.taps where rows.weight[o * rows.taps + j] != 0 {
                    lo = min(lo, rows.index[o * rows.taps + j])
                    hi = max(hi, rows.index[o * rows.taps + j] + 1)
                }
            }
            return lo < hi ? lo..<hi : 0..<0
        }
    }

    /// The taps of one axis: for output index o, input indices `index[o·taps + j]` with weights `weight[o·taps + j]`.
    public struct Contributions: Equatable, Sendable {
        public var taps: Int
        public var index: [Int]      // (outLength, taps), 0-based, already mirrored into [0, inLength)
        public var weight: [Double]  // (outLength, taps), each row sums to 1
    }

    /// MATLAB's `contributions(in_length, out_length, scale, @cubic, 4, true)`.
    public static func contributions(inLength: Int, outLength: Int, scale: Double) -> Contributions {
        let shrinking = scale < 1
        let kernelWidth = shrinking ? 4.0 / scale : 4.0
        let taps = Int(kernelWidth.rounded(.up)) + 2
        var index = [Int](repeating: 0, count: outLength * taps)
        var weight = [Double](repeating: 0, count: outLength * taps)
        for o in 0..<outLength {
            let u = Double(o + 1) / scale + 0.5 * (1 - 1 / scale)
            let left = (u - kernelWidth / 2).rounded(.down)
            var sum = 0.0
            for j in 0..<taps {
                let position = left + Double(j)           // 1-based input coordinate
                let x = u - position
                let w = shrinking ? scale * cubic(scale * x) : cubic(x)
                weight[o * taps + j] = w
                sum += w
                index[o * taps + j] = mirror(Int(position) - 1, length: inLength)
            }
            for j in 0..<taps { weight[o * taps + j] /= sum }
        }
        return Contributions(taps: taps, index: index, weight: weight)
    }

    /// Keys' cubic convolution kernel with a = −0.5.
    static func cubic(_ x: Double) -> Double {
        let ax = abs(x), ax2 = ax * ax, ax3 = ax2 * ax
        if ax <= 1 { return 1.5 * ax3 - 2.5 * ax2 + 1 }
        if ax <= 2 { return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2 }
        return 0
    }

    /// Symmetric reflection of a 0-based index into [0, length): … 1 0 | 0 1 … n−1 | n−1 n−2 …
    static func mirror(_ i: Int, length: Int) -> Int {
        let period = 2 * length
        var m = i % period
        if m < 0 { m += period }
        return m < length ? m : period - 1 - m
    }

    /// One output value from its Double sum: the sum rounded to Float, or to a 1/255 step in [0, 1].
    static func finish(_ v: Double, quantize: Bool) -> Float {
        quantize ? Float((min(max(v * 255, 0), 255)).rounded(.toNearestOrAwayFromZero) / 255) : Float(v)
    }

    // src = (N, C, H, W) / dst = (N, C, outH, W): resizeRows over every output row.
    private static func resizeHeight(_ t: Tensor, to outH: Int, scale: Double, quantize: Bool, threads: Int) -> Tensor {
        let inH = t.shape[2]
        if outH == inH && !quantize { return t }
        let c = contributions(inLength: inH, outLength: outH, scale: scale)
        return resizeRows(t, rowOrigin: 0, rows: c, outRows: 0..<outH, quantize: quantize, threads: threads)
    }

    // src = (N, C, H, W) / dst = (N, C, H, outW): resizeWidth with this axis's taps.
    private static func resizeWidth(_ t: Tensor, to outW: Int, scale: Double, quantize: Bool, threads: Int) -> Tensor {
        let inW = t.shape[3]
        if outW == inW && !quantize { return t }
        let c = contributions(inLength: inW, outLength: outW, scale: scale)
        return resizeWidth(t, taps: WidthTaps(c, inLength: inW), quantize: quantize, threads: threads)
    }
}
