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
// A phase's taps are k0, k0 + L, k0 + 2L, … with L = s / gcd(s, d), so its offsets are evenly spaced
// (by d / gcd(s, d)): the kernel steps through column taps with one stride.
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
    /// `pad` may be negative: a window of the output that starts after its first reachable
    /// position (the tiled runner's windows, see ConvTranspose2DPlan.runWindow).
    func outputRange(stride s: Int, padding pad: Int, outSize: Int) -> Range<Int> {
        let lo = ceilDiv(pad - phase, s)
        let hi = ceilDiv(outSize + pad - phase, s)
        return lo..<max(lo, hi)
    }

    /// Output position of q.
    func output(_ q: Int, stride s: Int, padding pad: Int) -> Int { q * s + phase - pad }

    var minOffset: Int { offsets.first ?? 0 }
    var maxOffset: Int { offsets.last ?? 0 }
}

/// The output rows one kernel call accumulates together (its "slots"), and which input rows
/// they read through which taps.
///
/// A slot is an output row: row phase `phase`, phase row q0 + `row` for the call's first phase
/// row q0. When the stride divides the slot count, one call takes all row phases of R/sH phase
/// rows (neighbouring output rows, which read mostly the same input rows: fewer loads per
/// multiply-add); otherwise each call takes R phase rows of one phase.
///
/// The kernel walks `inputRows` in ascending order; a slot visits its phase's taps in ascending
/// offset order, i.e. in the canonical order, whatever the slots of the call are.
struct ConvTransposeSlotTable: Equatable, Sendable {
    struct Slot: Equatable, Sendable {
        var phase: Int
        var row: Int
    }

    var slots: [Slot]
    /// Phase rows a call covers: the next call starts `phaseRows` further.
    var phaseRows: Int
    /// Input rows relative to q0, ascending: every slot.row + offsets[a] of its phase.
    var inputRows: [Int]
    /// (inputRows.count, slots.count): the tap a of the slot's phase with
    /// slot.row + offsets[a] == inputRows[j], or −1.
    var tapOfRow: [Int32]

    init(_ phases: [ConvTransposeAxisPhase], slots: [Slot], phaseRows: Int) {
        self.slots = slots
        self.phaseRows = phaseRows
        var used = Set<Int>()
        for slot in slots { for off in phases[slot.phase].offsets { used.insert(slot.row + off) } }
        inputRows = used.sorted()
        tapOfRow = [Int32](repeating: -1, count: inputRows.count * slots.count)
        for (j, row) in inputRows.enumerated() {
            for (s, slot) in slots.enumerated() {
                if let a = phases[slot.phase].offsets.firstIndex(of: row - slot.row) {
                    tapOfRow[j * slots.count + s] = Int32(a)
                }
            }
        }
    }

    /// The calls' tables for tiles of `rows` slots: one table when the calls mix all row phases,
    /// else one per phase.
    static func tables(_ phases: [ConvTransposeAxisPhase], rows: Int) -> [ConvTransposeSlotTable] {
        let stride = phases.count
        if stride > 1 && rows % stride == 0 {
            let slots = (0..<rows).map { Slot(phase: $0 % stride, row: $0 / stride) }
            return [ConvTransposeSlotTable(phases, slots: slots, phaseRows: rows / stride)]
        }
        return (0..<stride).map { ph in
            ConvTransposeSlotTable(phases, slots: (0..<rows).map { Slot(phase: ph, row: $0) }, phaseRows: rows)
        }
    }
}
