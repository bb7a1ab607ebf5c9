// The row schedule of a streamed graph run: pure integer code, no pixels.
//
// Every value (the padded input image and each node's output) is produced top to bottom, each row
// once. To deliver the network's output rows up to `target`, `advance(to:)` walks the nodes
// backwards once: node k must reach `need[k]` rows, so each input v of k must reach the last row
// that k's new rows read (`inputRows`), and so on down to the image. Then the nodes compute, in
// order, rows done[k] ..< need[k]. A value's rows below `keepFrom(v)` (the lowest row any of its
// readers will still read) are dropped. Since every `need` only grows, no row is computed twice:
// the work of any band height is exactly that of one whole-image pass.
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

    /// `paddedHeight` a multiple of the model's `sizeMultiple`.
    init(model: GraphModel, paddedHeight: Int) {
        precondition(paddedHeight > 0 && paddedHeight % model.sizeMultiple == 0, "a padded height")
        self.model = model
        self.imageRows = paddedHeight
        self.rows = model.shapes.map { $0.rows.of(paddedHeight) }
        self.done = [Int](repeating: 0, count: model.nodes.count)
        var readers: [Int: [Int]] = [:]
        for (k, node) in model.nodes.enumerated() {
            for v in Set(node.inputs) { readers[v, default: []].append(k) }
        }
        self.readers = readers
    }

    /// Rows of value v (the image or a node).
    func rowCount(_ v: Int) -> Int { v == GraphNode.image ? imageRows : rows[v] }

    /// The rows of input v that node k's output rows `out` read, clipped to v's rows.
    func inputRows(of k: Int, _ v: Int, forOutput out: Range<Int>) -> Range<Int> {
        guard !out.isEmpty else { return out.lowerBound..<out.lowerBound }
        let raw: Range<Int>
        switch model.nodes[k].op {
        case .conv(let layer): raw = layer.rowGeometry.inputRange(forOutput: out)
        case .pixelShuffle(let r), .upsampleNearest(let r): raw = ShuffleOps.inputRows(forOutput: out, up: r, down: 1)
        case .pixelUnshuffle(let r): raw = ShuffleOps.inputRows(forOutput: out, up: 1, down: r)
        default: raw = out
        }
        let n = rowCount(v)
        let lo = min(max(raw.lowerBound, 0), n), hi = min(max(raw.upperBound, lo), n)
        return lo..<hi
    }

    /// What delivering output rows up to `target` takes: the image rows to have fetched, and per
    /// node the rows to compute now (in node order; empty when none). Marks the image rows
    /// fetched; the caller marks each node's rows with `finished` once computed.
    mutating func advance(to target: Int) -> (imageRows: Int, compute: [Range<Int>]) {
        let last = model.nodes.count - 1
        var need = done
        need[last] = max(done[last], min(target, rows[last]))
        var imageNeed = imageFetched
        for k in stride(from: last, through: 0, by: -1) where need[k] > done[k] {
            for v in model.nodes[k].inputs {
                let upper = inputRows(of: k, v, forOutput: done[k]..<need[k]).upperBound
                if v == GraphNode.image { imageNeed = max(imageNeed, upper) } else { need[v] = max(need[v], upper) }
            }
        }
        imageFetched = imageNeed
        return (imageNeed, (0...last).map { done[$0]..<need[$0] })
    }

    /// Node k has computed its rows up to `row`.
    mutating func finished(_ k: Int, upTo row: Int) {
        precondition(row >= done[k] && row <= rows[k], "rows done only grow")
        done[k] = row
    }

    /// The lowest row of value v that a later `advance` can still read (rows below it can be
    /// dropped); `rowCount(v)` when no reader needs more. The last node's rows are the caller's.
    func keepFrom(_ v: Int) -> Int {
        var keep = rowCount(v)
        if v == model.nodes.count - 1 { keep = min(keep, done[v]) }
        for k in readers[v] ?? [] where done[k] < rows[k] {
            keep = min(keep, inputRows(of: k, v, forOutput: done[k]..<(done[k] + 1)).lowerBound)
        }
        return keep
    }
}
