@testable import UpscaleKit

/// The one float comparison of the test suite: |a − b| ≤ atol + rtol·|b| element-wise.
/// Returns whether all elements pass and the largest absolute difference (for failure messages).
func allClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6) -> (ok: Bool, maxDiff: Float) {
    guard a.count == b.count else { return (false, .infinity) }
    var ok = true
    var maxDiff: Float = 0
    for i in 0..<a.count {
        let diff = abs(a[i] - b[i])
        if !(diff <= atol + rtol * abs(b[i])) { ok = false }
        if diff > maxDiff || diff.isNaN { maxDiff = diff.isNaN ? .nan : diff }
    }
    return (ok, maxDiff)
}

/// `allClose` of two tensors' values, failing (max difference ∞) when their shapes differ: the
/// same numbers in another shape (a transposed or flattened result) are not a match.
func allClose(_ got: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> (ok: Bool, maxDiff: Float) {
    guard got.shape == expected.shape else { return (false, .infinity) }
    return allClose(got.data, expected.data, rtol: rtol, atol: atol)
}

/// SplitMix64: a tiny seeded generator, so a failing random case can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, _ range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}
