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
