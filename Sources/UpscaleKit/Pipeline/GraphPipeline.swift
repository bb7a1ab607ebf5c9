// The streamed run of a graph model: a line-buffered pipeline over the nodes. The network's output
// rows are asked for top to bottom; to deliver them the pipeline makes passes (GraphRowSchedule):
// fetch a few image rows, then compute each node's newly computable rows once, in node order, into
// that node's rolling buffer, and drop the rows no reader needs any more. Memory depends on the width
// and the receptive field of each edge, not on the height; the work is one whole-image pass.
//
//   image rows (real, 1, C, n, W) → reflect-padded to the model's size multiple (bottom, right)
//   → per node: rows [a, b) from its inputs' buffers → buffer (C, rows held, W') from its origin row
//   → the last node's rows, cropped to scale·W columns
//
// Bits: a conv node's rows come from runWindow on a window holding every row its taps read inside
// the map (the plan's per-element order does not depend on the window); element-wise, concat and
// shuffle nodes are per element. So the result equals `networkOutput` bit for bit for any band
// of rows requested and any thread count (GraphPipelineTests).
//
// Threads: the conv kernels split their work over `threads` workers (runWindow); the rest runs on
// the calling thread.

/// One value's rolling buffer: rows [origin, origin + rows) of a (C, ·, width) map, (C, rows, width).
struct RowBuffer {
    let channels: Int, width: Int
    private(set) var origin = 0
    private(set) var rows = 0
    private(set) var data: [Float] = []   // (C, rows, width)

    init(channels: Int, width: Int) { self.channels = channels; self.width = width }

    var end: Int { origin + rows }
    var floatCount: Int { data.count }

    /// Keeps rows ≥ `keep` and appends `added` (C, m, width), whose first row is `end`.
    mutating func update(keepFrom keep: Int, appending added: [Float], addedRows m: Int) {
        let drop = min(max(0, keep - origin), rows)
        guard drop > 0 || m > 0 else { return }
        let kept = rows - drop
        // src = data (C, rows, W) rows [drop, rows) and added (C, m, W) / dst = (C, kept + m, W)
        var out = [Float](repeating: 0, count: channels * (kept + m) * width)
        out.withUnsafeMutableBufferPointer { dst in
            data.withUnsafeBufferPointer { src in
                added.withUnsafeBufferPointer { add in
                    for c in 0..<channels {
                        let base = dst.baseAddress! + c * (kept + m) * width
                        if kept > 0 { base.update(from: src.baseAddress! + (c * rows + drop) * width, count: kept * width) }
                        if m > 0 { (base + kept * width).update(from: add.baseAddress! + c * m * width, count: m * width) }
                    }
                }
            }
        }
        data = out
        origin += drop
        rows = kept + m
    }

    /// Pointer to row `row` of channel `c` (the row must be held).
    func rowPointer(_ base: UnsafePointer<Float>, channel c: Int, row: Int) -> UnsafePointer<Float> {
        precondition(row >= origin && row < end, "row \(row) is not held (\(origin)..<\(end))")
        return base + (c * rows + row - origin) * width
    }
}

/// A streamed run of one image through a graph model.
public final class GraphPipeline {
    public let model: GraphModel
    /// The image's size, and the size padded to the model's size multiple.
    public let height: Int, width: Int
    let paddedHeight: Int, paddedWidth: Int
    let threads: Int
    private var schedule: GraphRowSchedule
    private var buffers: [RowBuffer]
    private var image: RowBuffer
    /// The last real image rows, padded to W' (the reflection below the image reads them): row → (C, W').
    private var tail: [Int: [Float]] = [:]
    private var delivered = 0
    /// Rows each node has computed so far (the work-factor check: each row exactly once).
    public private(set) var rowsComputed: [Int]
    /// The most floats held in buffers at once so far.
    public private(set) var peakFloats = 0

    /// Image rows fetched per pass: `sizeMultiple` unless told (one row of the most downsampled value).
    public let fetchRows: Int

    /// - Parameter rowAlignment: node rows are computed in blocks starting at multiples of it
    ///   (GraphRowSchedule.rowAlignment; the model's unless told); the bits do not depend on it.
    public init(model: GraphModel, height: Int, width: Int, threads: Int, fetchRows: Int? = nil, rowAlignment: Int? = nil) {
        precondition(height > 0 && width > 0, "an image")
        self.fetchRows = max(1, fetchRows ?? model.sizeMultiple)
        self.model = model
        self.height = height
        self.width = width
        self.paddedHeight = GraphModel.roundUp(height, model.sizeMultiple)
        self.paddedWidth = GraphModel.roundUp(width, model.sizeMultiple)
        self.threads = max(1, threads)
        self.schedule = GraphRowSchedule(model: model, paddedHeight: paddedHeight, fetchRows: max(1, fetchRows ?? model.sizeMultiple),
                                         rowAlignment: rowAlignment)
        self.buffers = model.shapes.map { RowBuffer(channels: $0.channels, width: $0.cols.of(GraphModel.roundUp(width, model.sizeMultiple))) }
        self.image = RowBuffer(channels: model.channels.count, width: paddedWidth)
        self.rowsComputed = [Int](repeating: 0, count: model.nodes.count)
    }

    /// Output rows `rows` (1, C, rows.count, scale·W), asked for in order: each request starts
    /// where the previous one ended. `fetch(r)` returns the image's rows `r` in model space
    /// (1, C, r.count, W), asked for in order, each row once.
    public func outputRows(_ rows: Range<Int>, fetch: (Range<Int>) throws -> Tensor) throws -> Tensor {
        precondition(rows.lowerBound == delivered && rows.upperBound <= model.scale * height, "output rows in order")
        let last = model.nodes.count - 1
        while schedule.done[last] < rows.upperBound {
            // One pass: `fetchRows` more image rows, then every node computes what it can.
            let before = schedule.imageFetched
            try fetchImage(upTo: min(paddedHeight, before + fetchRows), fetch)
            var moved = schedule.imageFetched > before
            for k in 0..<model.nodes.count {
                let range = schedule.ready(k)
                guard !range.isEmpty else { continue }
                moved = true
                if schedule.virtual[k] {   // a concat its convolutions gather from the parts
                    schedule.finished(k, upTo: range.upperBound)
                    rowsComputed[k] += range.count
                    continue
                }
                let added = computeRows(k, range)
                schedule.finished(k, upTo: range.upperBound)
                rowsComputed[k] += range.count
                buffers[k].update(keepFrom: buffers[k].origin, appending: added, addedRows: range.count)
                peakFloats = max(peakFloats, heldFloats)
                // Inputs whose readers have all moved past rows can drop them now.
                for v in Set(model.nodes[k].inputs) { dropUnneeded(v) }
            }
            precondition(moved, "the pipeline made no progress")
        }
        // The output rows, cropped to scale·W columns; then forgotten.
        let outWidth = model.scale * width
        let buffer = buffers[last]
        let out = Tensor(shape: [1, buffer.channels, rows.count, outWidth]) { dst in
            buffer.data.withUnsafeBufferPointer { src in
                for c in 0..<buffer.channels {
                    for (i, row) in rows.enumerated() {
                        (dst.baseAddress! + (c * rows.count + i) * outWidth)
                            .update(from: buffer.rowPointer(src.baseAddress!, channel: c, row: row), count: outWidth)
                    }
                }
            }
        }
        delivered = rows.upperBound
        buffers[last].update(keepFrom: delivered, appending: [], addedRows: 0)
        return out
    }

    private var heldFloats: Int { buffers.reduce(image.floatCount + tail.count * model.channels.count * paddedWidth) { $0 + $1.floatCount } }

    private func dropUnneeded(_ v: Int) {
        if v >= 0, schedule.virtual[v] {   // it holds nothing; its parts hold its rows
            for part in Set(model.nodes[v].inputs) { dropUnneeded(part) }   // parts are never virtual
            return
        }
        if v == GraphNode.image {
            image.update(keepFrom: schedule.keepFrom(v), appending: [], addedRows: 0)
        } else {
            buffers[v].update(keepFrom: schedule.keepFrom(v), appending: [], addedRows: 0)
        }
    }

    /// Fetches image rows until the padded image holds rows up to `need`: real rows padded to W'
    /// by reflection, and rows i ≥ H reflected (real row reflect(i, H)) from the kept tail.
    private func fetchImage(upTo need: Int, _ fetch: (Range<Int>) throws -> Tensor) throws {
        let first = image.end
        guard need > first else { return }
        let c = model.channels.count
        let realEnd = min(need, height)
        var real: Tensor? = nil   // (1, C, realEnd − first, W')
        if realEnd > first {
            let got = try fetch(first..<realEnd)
            precondition(got.shape == [1, c, realEnd - first, width], "fetch returned \(got.shape), expected rows \(first)..<\(realEnd)")
            let padded = GraphModel.reflectPadded(got, height: realEnd - first, width: paddedWidth)
            for row in stride(from: max(first, height - model.sizeMultiple), to: realEnd, by: 1) {   // the rows the reflection can read
                var copy: [Float] = []   // (C, W')
                copy.reserveCapacity(c * paddedWidth)
                for ch in 0..<c {
                    let start: Int = (ch * (realEnd - first) + row - first) * paddedWidth
                    copy.append(contentsOf: padded.data[start..<(start + paddedWidth)])
                }
                tail[row] = copy
            }
            real = padded
        }
        let m = need - first
        var added = [Float](repeating: 0, count: c * m * paddedWidth)   // (C, m, W')
        for ch in 0..<c {
            for i in first..<need {
                let dst = (ch * m + i - first) * paddedWidth
                if i < height, let real {
                    let src = (ch * (realEnd - first) + i - first) * paddedWidth
                    for x in 0..<paddedWidth { added[dst + x] = real.data[src + x] }
                } else {
                    guard let row = tail[GraphModel.reflect(i, height)] else { preconditionFailure("tail row \(GraphModel.reflect(i, height)) missing") }
                    for x in 0..<paddedWidth { added[dst + x] = row[ch * paddedWidth + x] }
                }
            }
        }
        image.update(keepFrom: schedule.keepFrom(GraphNode.image), appending: added, addedRows: m)
        schedule.fetched(upTo: need)
    }

    private func buffer(_ v: Int) -> RowBuffer { v == GraphNode.image ? image : buffers[v] }

    /// Conv node k's rows `range` when its input is a virtual concat: the rows it reads gathered
    /// from the concat's parts into one window (C_total, rows, W), then the conv on the window.
    private func convOverConcat(_ k: Int, _ range: Range<Int>) -> [Float] {
        let concat = model.nodes[k].inputs[0]
        let needed = schedule.inputRows(of: k, concat, forOutput: range)
        let parts = model.nodes[concat].inputs.map(buffer)
        let width = parts[0].width, rows = needed.count
        let channels = parts.reduce(0) { $0 + $1.channels }
        var window = [Float](repeating: 0, count: channels * rows * width)   // (C_total, rows, W)
        window.withUnsafeMutableBufferPointer { dst in
            var c0 = 0
            for part in parts {
                precondition(needed.isEmpty || (part.origin <= needed.lowerBound && part.end >= needed.upperBound),
                             "concat part rows \(needed) not held (\(part.origin)..<\(part.end))")
                part.data.withUnsafeBufferPointer { src in
                    for c in 0..<part.channels where rows > 0 {
                        (dst.baseAddress! + (c0 + c) * rows * width)
                            .update(from: part.rowPointer(src.baseAddress!, channel: c, row: needed.lowerBound), count: rows * width)
                    }
                }
                c0 += part.channels
            }
        }
        peakFloats = max(peakFloats, heldFloats + window.count)
        let out = buffers[k]
        var result = [Float](repeating: 0, count: out.channels * range.count * out.width)
        window.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { y in
                model.plans[k]!.runWindow(input: x.baseAddress!, inputOrigin: (needed.lowerBound, 0), inputSize: (rows, width),
                                          outputOrigin: (range.lowerBound, 0), outputSize: (range.count, out.width),
                                          output: y.baseAddress!, threads: threads)
            }
        }
        return result
    }

    /// Node k's output rows `range`, (C, range.count, W_k).
    private func computeRows(_ k: Int, _ range: Range<Int>) -> [Float] {
        let node = model.nodes[k]
        let out = buffers[k]
        let (cOut, wOut, m) = (out.channels, out.width, range.count)
        var result = [Float](repeating: 0, count: cOut * m * wOut)
        if case .conv = node.op, node.inputs[0] >= 0, schedule.virtual[node.inputs[0]] {
            return convOverConcat(k, range)
        }
        let first = buffer(node.inputs[0])
        for v in node.inputs {
            let held = buffer(v), needed = schedule.inputRows(of: k, v, forOutput: range)
            precondition(needed.isEmpty || (held.origin <= needed.lowerBound && held.end >= needed.upperBound),
                         "node \(node.name): input rows \(needed) not held (\(held.origin)..<\(held.end))")
        }
        result.withUnsafeMutableBufferPointer { dst in
            let y = dst.baseAddress!
            first.data.withUnsafeBufferPointer { src in
                let x = src.baseAddress!
                switch node.op {
                case .conv:
                    model.plans[k]!.runWindow(input: x, inputOrigin: (first.origin, 0), inputSize: (first.rows, first.width),
                                              outputOrigin: (range.lowerBound, 0), outputSize: (m, wOut), output: y, threads: threads)
                case .pixelShuffle(let r):
                    ShuffleOps.pixelShuffle(x, inputChannels: first.channels, inputRowOrigin: first.origin, inputRows: first.rows,
                                            inputWidth: first.width, factor: r, rows: range, into: y)
                case .pixelUnshuffle(let r):
                    ShuffleOps.pixelUnshuffle(x, inputChannels: first.channels, inputRowOrigin: first.origin, inputRows: first.rows,
                                              inputWidth: first.width, factor: r, rows: range, into: y)
                case .upsampleNearest(let r):
                    ShuffleOps.upsampleNearest(x, inputChannels: first.channels, inputRowOrigin: first.origin, inputRows: first.rows,
                                               inputWidth: first.width, factor: r, rows: range, into: y)
                case .affine(let shift, let scale):
                    for c in 0..<cOut {
                        ElementwiseOps.affine(first.rowPointer(x, channel: c, row: range.lowerBound),
                                              shift: [shift.count == 1 ? shift[0] : shift[c]], scale: [scale.count == 1 ? scale[0] : scale[c]],
                                              channels: 1, plane: m * wOut, into: y + c * m * wOut)
                    }
                case .sigmoid, .silu, .leakyReLU, .prelu:
                    for c in 0..<cOut {
                        let activation: Activation
                        switch node.op {
                        case .sigmoid: activation = .sigmoid
                        case .silu: activation = .silu
                        case .leakyReLU(let slope): activation = .leakyReLU(slope)
                        case .prelu(let slopes): activation = .prelu([slopes.count == 1 ? slopes[0] : slopes[c]])
                        default: preconditionFailure("not an activation node")
                        }
                        ElementwiseOps.activation(activation, first.rowPointer(x, channel: c, row: range.lowerBound),
                                                  channels: 1, plane: m * wOut, into: y + c * m * wOut)
                    }
                case .add, .mul, .concat:
                    break   // several inputs: below
                }
            }
            switch node.op {
            case .add(let scales):
                let inputs = node.inputs.map(buffer)
                withPointers(inputs.map { Tensor(shape: [$0.data.count], data: $0.data) }) { bases in
                    for c in 0..<cOut {
                        let rowsIn = zip(inputs, bases).map { $0.rowPointer($1, channel: c, row: range.lowerBound) }
                        ElementwiseOps.add(rowsIn, scales: scales, count: m * wOut, into: y + c * m * wOut)
                    }
                }
            case .mul:
                let (a, b) = (buffer(node.inputs[0]), buffer(node.inputs[1]))
                a.data.withUnsafeBufferPointer { pa in
                    b.data.withUnsafeBufferPointer { pb in
                        for c in 0..<cOut {
                            ElementwiseOps.mul(a.rowPointer(pa.baseAddress!, channel: c, row: range.lowerBound),
                                               b.rowPointer(pb.baseAddress!, channel: c, row: range.lowerBound),
                                               count: m * wOut, into: y + c * m * wOut)
                        }
                    }
                }
            case .concat:
                var channel = 0
                for v in node.inputs {
                    let part = buffer(v)
                    part.data.withUnsafeBufferPointer { src in
                        for c in 0..<part.channels {
                            (y + (channel + c) * m * wOut).update(from: part.rowPointer(src.baseAddress!, channel: c, row: range.lowerBound),
                                                                  count: m * wOut)
                        }
                    }
                    channel += part.channels
                }
            default:
                break
            }
        }
        return result
    }
}
