// Sub-pixel (phase) geometry of conv_transpose2d: pure integer code, no arithmetic on data.
//
// Along one axis (kernel k, stride s, dilation d, padding pad) tap k of input position h lands on
//   o = h·s − pad + k·d.
// Write t = o + pad = q·s + p with p = t mod s (the output's phase) and q = t div s. Tap k reaches
// phase p exactly when k·d ≡ p (mod s), and then from input position
//   h = q − (k·d − p)/s = q + offset(k)            (offset ≤ 0, an integer).
// So the outputs of one phase form a plain correlation of the input with that phase's taps: the
// zeros that striding inserts are never visited. A stride-1 axis has one phase whose offsets are
// 0, −d, −2d, … : correlation with the flipped kernel.
//
// The canonical order of a phase's taps is input offset ascending (kernel index descending). Every
// code path accumulates one output element over (row tap, input channel, column tap) in that order.

/// The taps of one kernel axis that reach the outputs of one phase.
struct ConvTransposeAxisPhase: Equatable, Sendable {
    /// p in 0..<stride.
    var phase: Int
    /// Kernel indices, in canonical order (input offset ascending).
    var taps: [Int]
    /// Input position = q + offsets[a]; ascending, all ≤ 0.
    var offsets: [Int]

    /// All phases of an axis, phase 0 first. A phase may have no taps (then its outputs are bias only).
    static func phases(kernel: Int, stride: Int, dilation: Int) -> [ConvTransposeAxisPhase] {
        (0..<stride).map { p in
            let taps = (0..<kernel).reversed().filter { (($0 * dilation) % stride) == p }
            return ConvTransposeAxisPhase(phase: p, taps: taps,
                                          offsets: taps.map { -(($0 * dilation - p) / stride) })
        }
    }

    /// The q whose output o = q·s + p − pad lies in [0, outSize).
    func outputRange(stride s: Int, padding pad: Int, outSize: Int) -> Range<Int> {
        // pad − p > −s and outSize + pad − p > 0, so both numerators of the ceilings are ≥ 0.
        let lo = (pad - phase + s - 1) / s
        let hi = (outSize + pad - phase + s - 1) / s
        return lo..<max(lo, hi)
    }

    /// Output position of q.
    func output(_ q: Int, stride s: Int, padding pad: Int) -> Int { q * s + phase - pad }

    var minOffset: Int { offsets.first ?? 0 }
    var maxOffset: Int { offsets.last ?? 0 }
}

/// Which input rows a block of `rows` consecutive output rows (q0 … q0 + rows − 1) of one phase
/// reads, and which tap each output row applies to each of those input rows.
///
/// The kernel walks `inputRows` in ascending order; for output row r that visits its taps in
/// ascending offset order, i.e. in the canonical order, whatever `rows` is.
struct ConvTransposeRowTable: Equatable, Sendable {
    var rows: Int
    /// Input rows relative to q0, ascending: every r + offsets[a].
    var inputRows: [Int]
    /// (inputRows.count, rows): the tap a with r + offsets[a] == inputRows[j], or −1.
    var tapOfRow: [Int32]

    init(_ phase: ConvTransposeAxisPhase, rows: Int) {
        self.rows = rows
        var used = Set<Int>()
        for r in 0..<rows { for off in phase.offsets { used.insert(r + off) } }
        inputRows = used.sorted()
        tapOfRow = [Int32](repeating: -1, count: inputRows.count * rows)
        for (j, row) in inputRows.enumerated() {
            for r in 0..<rows {
                if let a = phase.offsets.firstIndex(of: row - r) { tapOfRow[j * rows + r] = Int32(a) }
            }
        }
    }
}
