// Recomputed copies: trading a long skip connection's rows for a little work in the streamed run.
//
// A value is held from the row it is made until its slowest reader has read it. When a reader
// lags far behind the others (RRDBNet's trunk add reads conv_first's output ~351 rows after the
// body's first block did: 64 channels × 351 rows × 1920 px, 170 MB), and the value is a
// convolution whose inputs are much narrower than its output (conv_first reads the 3-channel
// image), the streamed run gives the far readers a copy of that convolution. The copy computes
// its rows only when a reader is about to read them (GraphRowSchedule.ready), so its input holds
// the lag instead (3 channels × 351 rows, 8 MB), and the convolution's rows are computed twice.
// The copy is the same layer (the same plan, the same Winograd phase: its input is the same
// value) on the same input rows, so its rows have the original's bits.
//
// With every value's rows ending where the stagger puts them (GraphModel.rowEnds: made as soon as
// their inputs allow), the lag of reader j on value k is end(k) − the first row of k that j's
// next output row, end(j), reads. A reader is far when its lag is at least `farLag` rows and
// `farRatio` times the nearest reader's. A convolution is cheap to copy when its inputs' floats
// per image row are at most half its output's, and copies are made, in node order, while their
// multiply-adds stay within `copyWorkShare` of the network's (the work factor counts them:
// GraphModel.workFactor, `--verbose`).

extension GraphModel {
    /// Rows a far reader lags at the least.
    static let farLag = 32
    /// How many times the nearest reader's lag a far reader's is at the least.
    static let farRatio = 8
    /// The most work the copies may add, as a share of the network's multiply-adds.
    static let copyWorkShare = 0.01

    /// The streamed run's graph: `nodes` with a recomputed copy of each cheap convolution for its
    /// far readers (inserted before the first of them, which read it instead of the original),
    /// their plans (a copy shares its original's), and for each node the node it copies (nil for
    /// the model's own nodes). Nil when no node qualifies. `nodes` are staggered.
    static func recomputedCopies(_ nodes: [GraphNode], shapes: [GraphValueShape], input: GraphValueShape, sizeMultiple: Int,
                                 plans: [ConvTranspose2DPlan?]) -> (nodes: [GraphNode], plans: [ConvTranspose2DPlan?], copyOf: [Int?])? {
        func shape(_ v: Int) -> GraphValueShape { v == GraphNode.image ? input : shapes[v] }
        func floatsPerImageRow(_ v: Int) -> Double {   // floats of v per image row and column
            let s = shape(v)
            return Double(s.channels * s.rows.numerator * s.cols.numerator) / Double(s.rows.denominator * s.cols.denominator)
        }
        func macs(_ k: Int) -> Double {   // multiply-adds of conv node k per image pixel
            guard case .conv(let layer) = nodes[k].op else { return 0 }
            let s = shape(nodes[k].inputs[0])
            return Double(s.rows.numerator * s.cols.numerator) / Double(s.rows.denominator * s.cols.denominator)
                * Double(layer.inChannels * layer.weightShape[1] * layer.kernel.0 * layer.kernel.1)
        }
        // Rows relative to a base E far from row 0, a multiple of every size factor's denominator.
        let ends = rowEnds(nodes), base = (1 << 16) * sizeMultiple
        func end(_ v: Int) -> Int { shape(v).rows.of(base) + (v == GraphNode.image ? 0 : ends[v]) }
        func firstRead(by j: Int, forOutput out: Int) -> Int {   // the first row of its inputs that j's row `out` reads
            switch nodes[j].op {
            case .conv(let layer): return layer.rowGeometry.inputRange(forOutput: out..<(out + 1)).lowerBound
            case .pixelShuffle(let r), .upsampleNearest(let r): return ShuffleOps.inputRows(forOutput: out..<(out + 1), up: r, down: 1).lowerBound
            case .pixelUnshuffle(let r): return ShuffleOps.inputRows(forOutput: out..<(out + 1), up: 1, down: r).lowerBound
            case .add, .mul, .affine, .sigmoid, .silu, .leakyReLU, .prelu, .concat: return out
            }
        }
        var readers = [[Int]](repeating: [], count: nodes.count)
        for (j, node) in nodes.enumerated() { for v in Set(node.inputs) where v >= 0 { readers[v].append(j) } }
        let total = nodes.indices.reduce(0) { $0 + macs($1) }
        var budget = copyWorkShare * total
        var far: [Int: [Int]] = [:]   // original → its far readers
        for (k, node) in nodes.enumerated() where k < nodes.count - 1 && readers[k].count > 1 {
            guard case .conv = node.op, macs(k) <= budget,
                  2 * node.inputs.reduce(0.0, { $0 + floatsPerImageRow($1) }) <= floatsPerImageRow(k) else { continue }
            let lags = readers[k].map { j in (j, end(k) - firstRead(by: j, forOutput: end(j))) }
            let nearest = max(1, lags.map(\.1).min() ?? 0)
            // A concat reader may be one a convolution reads in place (GraphRowSchedule.virtual): not copied for.
            let list = lags.filter { j, lag in
                if case .concat = nodes[j].op { return false }
                return lag >= farLag && lag >= farRatio * nearest
            }.map(\.0)
            guard !list.isEmpty, list.count < readers[k].count else { continue }
            far[k] = list
            budget -= macs(k)
        }
        guard !far.isEmpty else { return nil }
        // The copies go before their first far reader; every index moves to the new order.
        var before: [Int: [Int]] = [:]   // node j → the originals copied just before it
        for (k, list) in far { before[list.min()!, default: []].append(k) }
        var names = Set(nodes.map(\.name))
        var newIndex = [Int](repeating: 0, count: nodes.count), copyIndex: [Int: Int] = [:]
        var out: [GraphNode] = [], outPlans: [ConvTranspose2DPlan?] = [], copyOf: [Int?] = []
        func mapped(_ v: Int) -> Int { v == GraphNode.image ? v : newIndex[v] }
        for (j, node) in nodes.enumerated() {
            for k in (before[j] ?? []).sorted() {
                var name = String(nodes[k].name.prefix(GraphLimits.maxNameBytes - 12)) + ".again", n = 1
                while names.contains(name) { n += 1; name = String(nodes[k].name.prefix(GraphLimits.maxNameBytes - 12)) + ".again\(n)" }
                names.insert(name)
                copyIndex[k] = out.count
                out.append(GraphNode(name: name, op: nodes[k].op, inputs: nodes[k].inputs.map(mapped)))
                outPlans.append(plans[k])
                copyOf.append(newIndex[k])
            }
            newIndex[j] = out.count
            var copy = node
            copy.inputs = node.inputs.map { v in
                if v >= 0, let list = far[v], list.contains(j), let c = copyIndex[v] { return c }
                return mapped(v)
            }
            out.append(copy)
            outPlans.append(plans[j])
            copyOf.append(nil)
        }
        return (out, outPlans, copyOf)
    }
}
