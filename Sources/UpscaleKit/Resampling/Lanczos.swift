// Lanczos-3 resampling to an exact size: the filter, and the taps of every output pixel on one axis.
//
//   L(t) = sinc(t)·sinc(t/3) for −3 ≤ t < 3, else 0;   sinc(t) = sin(πt)/(πt), sinc(0) = 1
//
// Along an axis of `inSize` input and `outSize` output pixels, ratio = inSize/outSize and
// stretch = max(1, ratio): reducing widens the filter by the ratio (antialiasing, the filter
// becomes a low-pass at the output's Nyquist frequency); enlarging uses it as it is. Pixel j covers
// [j, j+1), so output pixel i is centred at c = (i + ½)·ratio in input coordinates (the image's
// edges map onto each other: no half-pixel shift). Its taps are the input pixels
//   j ∈ [⌊c − 3·stretch + ½⌋, ⌊c + 3·stretch + ½⌋) ∩ [0, inSize)
// with weights w_j = L((j + ½ − c)/stretch) / Σ_j L(…): taps that would fall outside the image are
// dropped and the rest renormalised to sum 1 (edges are neither mirrored nor padded). This is the
// filter and tap rule of Pillow's Image.resize(LANCZOS) (libImaging/Resample.c), on which the
// tests' fixtures are made; weights are computed in Double and applied in Float.
//
// The two axes are separable: rows first (each input row to outW values), then columns.

#if canImport(Glibc)
import Glibc
#endif

public enum Lanczos {
    /// The filter's half-width in input pixels at stretch 1.
    public static let lobes = 3.0

    /// L(t).
    static func kernel(_ t: Double) -> Double {
        guard -lobes <= t && t < lobes else { return 0 }
        return sinc(t) * sinc(t / lobes)
    }

    private static func sinc(_ t: Double) -> Double {
        guard t != 0 else { return 1 }
        let x = t * Double.pi
        return sin(x) / x
    }

    /// The taps of every output pixel along one axis of `inSize` → `outSize` pixels.
    public struct Taps: Sendable, Equatable {
        public let inSize: Int
        public let outSize: Int
        /// First input pixel of output pixel i.
        public let start: [Int]      // (outSize)
        /// Its number of taps.
        public let count: [Int]      // (outSize)
        /// Its weights, at `i · stride ..< i · stride + count[i]`.
        public let weights: [Float]  // (outSize, stride)
        /// The most taps any output pixel has.
        public let stride: Int

        public init(inSize: Int, outSize: Int) {
            precondition(inSize > 0 && outSize > 0, "Lanczos taps need sizes > 0")
            self.inSize = inSize
            self.outSize = outSize
            let ratio = Double(inSize) / Double(outSize)
            let stretch = max(1, ratio)
            let support = lobes * stretch
            var start = [Int](repeating: 0, count: outSize)
            var count = [Int](repeating: 0, count: outSize)
            var rows: [[Double]] = []
            rows.reserveCapacity(outSize)
            for i in 0..<outSize {
                let centre = (Double(i) + 0.5) * ratio
                let first = max(0, Int((centre - support + 0.5).rounded(.down)))
                let end = min(inSize, Int((centre + support + 0.5).rounded(.down)))
                var w = (first..<max(first, end)).map { kernel((Double($0) + 0.5 - centre) / stretch) }
                let sum = w.reduce(0, +)
                if sum != 0 { w = w.map { $0 / sum } }
                start[i] = first
                count[i] = w.count
                rows.append(w)
            }
            let stride = max(1, count.max() ?? 1)
            var weights = [Float](repeating: 0, count: outSize * stride)
            for i in 0..<outSize {
                for k in 0..<count[i] { weights[i * stride + k] = Float(rows[i][k]) }
            }
            self.start = start
            self.count = count
            self.weights = weights
            self.stride = stride
        }

        /// Input pixels [0, end) are enough for output pixels [0, outputs).
        public func inputEnd(forOutputs outputs: Int) -> Int {
            outputs == 0 ? 0 : (0..<outputs).map { start[$0] + count[$0] }.max() ?? 0
        }
    }
}
