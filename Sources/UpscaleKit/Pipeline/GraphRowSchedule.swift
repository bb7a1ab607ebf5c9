// The row schedule of a streamed graph run: pure integer code, no pixels.
//
// Every value (the padded input image and each node's output) is produced top to bottom, each row
// once. Rows are pushed from the input: each pass fetches a few more image rows, then every node,
// in order, computes the rows its inputs now hold enough rows for (`ready`). A value's rows below
// `keepFrom(v)` (the lowest row any of its readers will still read) are dropped. So a value holds
// only the rows between its slowest reader and itself: a few rows for most, the lag of the path
// it skips for a skip connection (RRDBNet's trunk: its receptive depth). Since `done` only grows,
// no row is computed twice: the work is exactly that of one whole-image pass.
//
// Rows a node's output rows [a, b) read from its input (clipped to the input's rows):
//   conv_transpose2d           AxisGeometry.inputRange(forOutput:) of its row geometry
//   element-wise, concat       [a, b)
//   pixel_shuffle, upsample r  [⌊a/r⌋, ⌊(b − 1)/r⌋ + 1)
//   pixel_unshuffle r          [a·r, b·r)

struct GraphRowSchedule {
    let model: GraphModel
    /// Rows of each node's output, for the padded image's `imageRows`.
    let rows: [Int]
    let imageRows: Int
    /// Rows computed so far per node, and image rows fetched.
    private(set) var done: [Int]
    private(set) var imageFetched = 0
    /// For each value (node index; the image is `GraphNode.image`), the nodes reading it.
    let readers: [Int: [Int]]
    /// Concat nodes read only by convolutions (and not the output): they hold no rows; each
    /// reading convolution gathers the rows it needs from the parts (a window), so the parts keep
    /// the rows the concat's readers will read.
    let virtual: [Bool]

    /// Values stored side by side along channels, one storage each (`members` in channel order),
    /// so that a convolution reading a virtual concat of them reads the storage in place: the
    /// concats whose parts are a prefix of one list (RRDBNet's dense blocks: cat(x, x1),
    /// cat(x, x1, x2), …). `grouped[k]`: virtual concat k reads its group in place (its parts are
    /// the group's first members); other virtual concats gather their parts' rows.
    let groups: [[Int]]
    let grouped: [Bool]

    /// The most rows node k computes in one pass: what `fetchRows` image rows are worth at its
    /// size (so the last passes, with the whole image fetched, drain in steps too).
    let passRows: [Int]
    /// The most rows node k computes in one sweep over the nodes: its pass rows, but no more than a
    /// full-size map's on an upsampled map. A pass sweeps until no node can move, so a ×4 node's
    /// 16 rows of a pass come as 4 sweeps of 4, each read by its consumers before the next: the
    /// upsampled tail holds a few rows more than one sweep's, not more than one pass's (RRDBNet ×4
    /// at 1920 px: 18 → 8 rows of 64 channels × 7680 px in each of 3 rings).
    let sweepRows: [Int]
    /// Rows computed per node when the pass began (`startPass`).
    private(set) var passStart: [Int]

    /// Nodes whose rows live in their reader's storage (`host[k] != k`): a node whose only reader
    /// is an element-wise add that takes it as its first input, at the same size. The add then
    /// computes its rows in place over its input's (ElementwiseOps.add reads each element of its
    /// first input before writing it, and its other inputs after), so the chain conv5 → add → add
    /// of an RRDB is one ring, not three. `host[k]`: the node at the end of k's chain, whose
    /// storage holds the chain's rows: rows below done[host] are the host's values, the rows above
    /// the values of the nodes ahead of it. k itself where not aliased.
    let host: [Int]
    /// `heads[k]`: node k's rows are new rows of its storage (no node's rows lie in k's place):
    /// every node but those an aliased node feeds in place.
    let heads: [Bool]

    /// Node k's rows are computed in blocks [j·rowBlocks[k].size + rowBlocks[k].phase, …) of its
    /// map, except where the map ends: a Winograd layer's tiles (its row geometry's alignment and
    /// phase, which the model staggers: GraphModel.staggered), the size also a multiple of the
    /// `rowAlignment` asked for (tests coarsen the blocks; the bits do not depend on it). A block
    /// of size 1: any rows.
    let rowBlocks: [(size: Int, phase: Int)]

    /// `paddedHeight` a multiple of the model's `sizeMultiple`; `fetchRows` image rows per pass;
    /// every node's blocks a multiple of `rowAlignment` (1: as its own geometry says).
    init(model: GraphModel, paddedHeight: Int, fetchRows: Int, rowAlignment: Int? = nil) {
        let rowAlignment = rowAlignment ?? 1
        precondition(rowAlignment >= 1, "an alignment")
        let rowBlocks = model.nodes.map { node -> (size: Int, phase: Int) in
            guard case .conv(let layer) = node.op else { return (rowAlignment, 0) }
            let g = layer.rowGeometry
            return (lcm(rowAlignment, g.alignment), g.phase)
        }
        self.rowBlocks = rowBlocks
        precondition(paddedHeight > 0 && paddedHeight % model.sizeMultiple == 0, "a padded height")
        self.model = model
        self.imageRows = paddedHeight
        self.rows = model.shapes.map { $0.rows.of(paddedHeight) }
        self.done = [Int](repeating: 0, count: model.nodes.count)
        // Every node may take a whole block of every conv per pass (a multiple of all block sizes:
        // an element-wise node after a Winograd layer keeps up with its 4-row steps), and the rows
        // of a pass keep the values' size ratios (upsampled nodes drain as fast as the trunk).
        let step = rowBlocks.reduce(1) { lcm($0, $1.size) }
        let fetchStep = (max(1, fetchRows) + step - 1) / step * step
        self.passRows = model.shapes.map { shape in
            let rows = max(1, (fetchStep * shape.rows.numerator + shape.rows.denominator - 1) / shape.rows.denominator)
            return (rows + step - 1) / step * step
        }
        self.sweepRows = model.shapes.map { shape in
            let rows = max(1, (fetchStep * min(shape.rows.numerator, shape.rows.denominator) + shape.rows.denominator - 1)
                           / shape.rows.denominator)
            return (rows + step - 1) / step * step
        }
        self.passStart = self.done
        var readers: [Int: [Int]] = [:]
        for (k, node) in model.nodes.enumerated() {
            for v in Set(node.inputs) { readers[v, default: []].append(k) }
        }
        self.readers = readers
        let virtual: [Bool] = model.nodes.enumerated().map { k, node in
            guard case .concat = node.op, k < model.nodes.count - 1, let list = readers[k], !list.isEmpty else { return false }
            return list.allSatisfy { if case .conv = model.nodes[$0].op { return true }; return false }
        }
        self.virtual = virtual
        var groups: [[Int]] = [], member: [Int: Int] = [:]
        var grouped = [Bool](repeating: false, count: model.nodes.count)
        for (k, node) in model.nodes.enumerated() where virtual[k] {
            let parts = node.inputs
            guard !parts.contains(GraphNode.image), Set(parts).count == parts.count else { continue }
            let owners = Set(parts.compactMap { member[$0] })
            if owners.isEmpty {   // a new group
                for p in parts { member[p] = groups.count }
                groups.append(parts)
                grouped[k] = true
            } else if owners.count == 1, let g = owners.first {
                if groups[g].starts(with: parts) {
                    grouped[k] = true
                } else if parts.starts(with: groups[g]), parts[groups[g].count...].allSatisfy({ member[$0] == nil }) {
                    for p in parts[groups[g].count...] { member[p] = g }
                    groups[g] = parts
                    grouped[k] = true
                }
            }
        }
        self.groups = groups
        self.grouped = grouped
        // In-place adds: k's only reader j adds it first (and only there), j not the last node (its
        // ring is the caller's band), k not stored in a concat group (its channels are the group's).
        let last = model.nodes.count - 1
        var into = [Int?](repeating: nil, count: model.nodes.count)   // the add k's rows are computed into
        for k in 0..<last where !virtual[k] && member[k] == nil {
            guard let list = readers[k], list.count == 1, let j = list.first, j < last, !virtual[j],
                  case .add = model.nodes[j].op, model.nodes[j].inputs.first == k,
                  !model.nodes[j].inputs.dropFirst().contains(k), model.shapes[j] == model.shapes[k] else { continue }
            into[k] = j
        }
        var host = Array(0..<model.nodes.count)
        for k in stride(from: last, through: 0, by: -1) { if let j = into[k] { host[k] = host[j] } }   // readers come later
        self.host = host
        var heads = [Bool](repeating: true, count: model.nodes.count)
        for case let j? in into { heads[j] = false }
        self.heads = heads
    }

    /// Starts a pass: each node may compute up to `passRows` rows from here, in sweeps.
    mutating func startPass() { passStart = done }

    /// Rows of value v (the image or a node).
    func rowCount(_ v: Int) -> Int { v == GraphNode.image ? imageRows : rows[v] }

    /// The rows of input v that node k's output rows `out` read, clipped to v's rows.
    func inputRows(of k: Int, _ v: Int, forOutput out: Range<Int>) -> Range<Int> {
        guard !out.isEmpty else { return out.lowerBound..<out.lowerBound }
        let raw = rawInputRows(of: k, forOutput: out)
        let n = rowCount(v)
        let lo = min(max(raw.lowerBound, 0), n), hi = min(max(raw.upperBound, lo), n)
        return lo..<hi
    }

    /// The rows of its inputs that node k's output rows `out` (not empty) read, before clipping to
    /// the input's rows: a convolution's taps above or below its input read zeros there.
    func rawInputRows(of k: Int, forOutput out: Range<Int>) -> Range<Int> {
        switch model.nodes[k].op {
        case .conv(let layer): return layer.rowGeometry.inputRange(forOutput: out)
        case .pixelShuffle(let r), .upsampleNearest(let r): return ShuffleOps.inputRows(forOutput: out, up: r, down: 1)
        case .pixelUnshuffle(let r): return ShuffleOps.inputRows(forOutput: out, up: 1, down: r)
        default: return out
        }
    }

    /// The image holds its padded rows up to `row`.
    mutating func fetched(upTo row: Int) {
        precondition(row >= imageFetched && row <= imageRows, "image rows only grow")
        imageFetched = row
    }

    /// The rows node k can compute now: from `done[k]` on, while every input holds the rows they
    /// read (inputs earlier in node order have already moved in this sweep), at most `sweepRows[k]`
    /// and what is left of its `passRows[k]` in this pass; a recomputed copy no more than its
    /// readers' next sweep reads (`demand`).
    func ready(_ k: Int) -> Range<Int> {
        var o = done[k]
        let inputs = model.distinctInputs[k]
        var most = min(sweepRows[k], passStart[k] + passRows[k] - done[k])
        if model.copyOf[k] != nil { most = min(most, demand(k) - done[k]) }
        rows: while o < rows[k] && o - done[k] < most {
            for v in inputs where inputRows(of: k, v, forOutput: o..<(o + 1)).upperBound > (v == GraphNode.image ? imageFetched : done[v]) {
                break rows
            }
            o += 1
        }
        if o < rows[k] {   // whole blocks only
            let block = rowBlocks[k]
            o = max(done[k], floorDiv(o - block.phase, block.size) * block.size + block.phase)
        }
        return done[k]..<o
    }

    /// The rows a recomputed copy k (GraphModel+Recompute.swift) computes up to now: those its
    /// readers' next sweeps (their `sweepRows` from their `done`) read, up to the end of k's block
    /// there, so that it holds its rows only from just before they are read, and its input the lag.
    func demand(_ k: Int) -> Int {
        var need = done[k]
        for j in readers[k] ?? [] where done[j] < rows[j] {
            need = max(need, inputRows(of: j, k, forOutput: done[j]..<min(rows[j], done[j] + sweepRows[j])).upperBound)
        }
        let block = rowBlocks[k]
        return min(rows[k], ceilDiv(need - block.phase, block.size) * block.size + block.phase)
    }

    /// Node k has computed its rows up to `row`.
    mutating func finished(_ k: Int, upTo row: Int) {
        precondition(row >= done[k] && row <= rows[k], "rows done only grow")
        done[k] = row
    }

    /// The lowest row of value v that a later pass can still read (rows below it can be
    /// dropped); `rowCount(v)` when no reader needs more. The last node's rows are the caller's.
    func keepFrom(_ v: Int) -> Int {
        var keep = rowCount(v)
        if v == model.nodes.count - 1 { keep = min(keep, done[v]) }
        for k in readers[v] ?? [] {
            if virtual[k] {
                keep = min(keep, keepFrom(k))   // one level: a virtual concat's readers are convolutions
            } else if done[k] < rows[k] {
                keep = min(keep, inputRows(of: k, v, forOutput: done[k]..<(done[k] + 1)).lowerBound)
            }
        }
        return keep
    }
}
