// How far a graph model reads around each output pixel: its receptive radius, in input pixels.
//
// Walking the nodes backwards from one output row (or column), each edge widens the range its
// reader needs into the range it reads of its input (the same maps as the streamed schedule,
// GraphRowSchedule: a conv's AxisGeometry.inputRange, with its Winograd alignment; the shuffles'
// ShuffleOps.inputRows; the same range for element-wise nodes and concat), and a value read by
// several nodes needs the hull of what they read. Far from the border the result repeats with the
// size factors and alignments, so a few periods of output rows tell all.

extension GraphModel {
    /// Input pixels of context, on the worse side and axis, that an output pixel's value depends on
    /// (through the padded image; the border clips it in a real run).
    public var receptiveRadius: Int {
        max(reach(rows: true), reach(rows: false))
    }

    private func reach(rows: Bool) -> Int {
        let period = scale * sizeMultiple * rowAlignment
        let base = (1 << 20) * period   // far from row 0, a multiple of every factor
        var most = 0
        for o in base..<(base + 2 * period) {
            var need = [Range<Int>?](repeating: nil, count: nodes.count)
            var image: Range<Int>? = nil
            need[nodes.count - 1] = o..<(o + 1)
            for k in stride(from: nodes.count - 1, through: 0, by: -1) {
                guard let out = need[k] else { continue }
                let read: Range<Int>
                switch nodes[k].op {
                case .conv(let layer): read = (rows ? layer.rowGeometry : layer.colGeometry).inputRange(forOutput: out)
                case .pixelShuffle(let r), .upsampleNearest(let r): read = ShuffleOps.inputRows(forOutput: out, up: r, down: 1)
                case .pixelUnshuffle(let r): read = ShuffleOps.inputRows(forOutput: out, up: 1, down: r)
                case .add, .mul, .affine, .sigmoid, .silu, .leakyReLU, .prelu, .concat: read = out
                }
                guard !read.isEmpty else { continue }
                for v in nodes[k].inputs {
                    if v == GraphNode.image {
                        image = image.map { min($0.lowerBound, read.lowerBound)..<max($0.upperBound, read.upperBound) } ?? read
                    } else {
                        need[v] = need[v].map { min($0.lowerBound, read.lowerBound)..<max($0.upperBound, read.upperBound) } ?? read
                    }
                }
            }
            guard let image else { continue }
            let own = o / scale   // the input pixel output row o shows
            most = max(most, own - image.lowerBound, image.upperBound - 1 - own)
        }
        return most
    }
}
