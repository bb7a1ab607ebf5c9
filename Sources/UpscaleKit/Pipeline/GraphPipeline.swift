// The streamed run of a graph model: a line-buffered pipeline over the nodes. The network's output
// rows are asked for top to bottom; to deliver them the pipeline makes passes (GraphRowSchedule):
// fetch a few image rows, then compute each node's newly computable rows once, in node order, into
// that node's ring of rows, and drop the rows no reader needs any more. Memory depends on the width
// and the receptive field of each edge, not on the height; the work is one whole-image pass.
//
//   image rows (real, 1, C, n, W) → reflect-padded to the model's size multiple (bottom, right)
//   → per node: rows [a, b) from its inputs' rings → its ring (C, capacity, W'), row r in slot r mod capacity
//   → the last node's rows, cropped to scale·W columns
//
// Bits: a conv node's rows come from runWindow on a window holding every row its taps read inside
// the map (its input ring read in place, or a gathered copy; the plan's per-element order does not
// depend on the window, nor on where it lies, nor on which output columns one call computes); element-wise, concat and
// shuffle nodes are per element. So the result equals `networkOutput` bit for bit for any band of
// rows requested and any thread count (GraphPipelineTests).
//
// Rows per pass: the model's least on wide images (1920: one image row, four rows of each ×1 map
// with Winograd's alignment), more on narrow ones (GraphModel.fetchRows(forWidth:): 16 at 128 px),
// where a pass of 4 rows would give a 3×3 layer's kernel one row of tiles: one thread, and the
// call's setup for few tiles. A pass sweeps over the nodes until none can move; an upsampled map
// takes its pass's rows (16 of a ×4 map) a full-size map's worth per sweep, so its readers take
// them in between and its ring holds a sweep's rows (GraphRowSchedule.sweepRows).
//
// Memory: each value's ring holds the rows its slowest reader still needs (the replay,
// GraphModel.pipelineRingRows, sizes them before the run); a conv read only by an add as its first
// input writes into that add's ring, which the add then rewrites in place (GraphRowSchedule.host);
// the output rows leave the last node's ring after each pass, into the caller's band.
// The pipeline runs the model's `streamedGraph`: where a cheap convolution's output would be held
// over a long skip (RRDBNet's conv_first, ~351 rows), its far reader reads a copy computed just in
// time from the narrow input instead (GraphModel+Recompute.swift).
//
// Threads: a pass gives a node a few rows (often one), fewer than the conv kernels' per-thread
// blocks of rows, so a conv's output columns are split into slices over the `threads` workers;
// element-wise, shuffle, concat, gather and copy steps split their (channel, row) pairs. Each
// worker writes only its own slice or rows.

/// The storage of one or more values' rows: (C, capacity, width), row r of channel c in slot
/// r mod capacity. Values whose channels a convolution reads together (a concat's parts,
/// GraphModel.concatStorage) share one, each at its channel offset, so that the convolution reads
/// them in place.
final class RowStorage {
    let channels: Int, width: Int
    private(set) var capacity: Int
    private(set) var pointer: UnsafeMutablePointer<Float>   // (C, capacity, width)
    /// The rings that keep their rows here (unowned: each ring holds its storage).
    fileprivate var rings: [Unowned<RowRing>] = []

    init(channels: Int, width: Int, capacity: Int) {
        self.channels = channels
        self.width = width
        self.capacity = max(1, capacity)
        pointer = .allocate(capacity: channels * self.capacity * width)
        pointer.initialize(repeating: 0, count: channels * self.capacity * width)
    }

    deinit { pointer.deallocate() }

    var allocatedFloats: Int { channels * capacity * width }

    /// Grows to `rows` slots, moving every ring's held rows to their new slots.
    fileprivate func grow(to rows: Int) {
        let fresh = UnsafeMutablePointer<Float>.allocate(capacity: channels * rows * width)
        fresh.initialize(repeating: 0, count: channels * rows * width)
        for ring in rings.map(\.value) {
            for c in ring.channelOffset..<(ring.channelOffset + ring.channels) {
                for r in ring.origin..<ring.end {
                    (fresh + (c * rows + r % rows) * width).update(from: pointer + (c * capacity + r % capacity) * width, count: width)
                }
            }
        }
        pointer.deallocate()
        pointer = fresh
        capacity = rows
    }
}

/// An unowned reference, to list rings in their storage without a cycle.
struct Unowned<T: AnyObject> { unowned let value: T }

/// One value's rows: rows [origin, end) of a (C, ·, width) map, in channels
/// [channelOffset, channelOffset + C) of its storage. Adding rows writes only the new rows and
/// dropping rows moves nothing, so a skip connection that holds hundreds of rows costs nothing per pass.
/// An in-place chain (GraphRowSchedule.host: conv → add → add) is one ring: rows below the host
/// node's done are its values, the rows above them the values of the nodes ahead of it.
///
///   storage (C_storage, capacity, width); the rows held satisfy end − origin ≤ capacity
///
/// A convolution reads its rows in place, through a layout that follows the slots around
/// (GraphPipeline.convRows), and stores its new rows likewise.
final class RowRing {
    let storage: RowStorage
    let channels: Int, channelOffset: Int
    private(set) var origin = 0
    private(set) var end = 0

    /// A value in storage of its own.
    convenience init(channels: Int, width: Int, capacity: Int) {
        self.init(RowStorage(channels: channels, width: width, capacity: capacity), channels: channels, offset: 0)
    }

    /// A value in `storage`'s channels [offset, offset + channels).
    init(_ storage: RowStorage, channels: Int, offset: Int) {
        precondition(offset >= 0 && offset + channels <= storage.channels, "channels inside the storage")
        self.storage = storage
        self.channels = channels
        self.channelOffset = offset
        storage.rings.append(Unowned(value: self))
    }

    var width: Int { storage.width }
    var capacity: Int { storage.capacity }
    var rows: Int { end - origin }
    /// Floats of the rows held (what the memory replay counts).
    var floatCount: Int { channels * rows * width }
    /// The first float of this value's channels in the storage, (C, capacity, width).
    var base: UnsafeMutablePointer<Float> { storage.pointer + channelOffset * storage.capacity * storage.width }

    /// Row `row` of channel `c`: a held row, or one of the rows being added (below origin + capacity).
    @inline(__always) func row(_ c: Int, _ row: Int) -> UnsafeMutablePointer<Float> {
        precondition(row >= origin && row < origin + storage.capacity, "row \(row) is not in the ring (\(origin)..<\(origin + storage.capacity))")
        return storage.pointer + ((channelOffset + c) * storage.capacity + row % storage.capacity) * storage.width
    }

    /// Forgets the rows below `keep`.
    func drop(below keep: Int) { origin = max(origin, min(keep, end)) }

    /// Makes room for rows [end, end + m), which the caller writes (`row`) before `added(m)`.
    /// Grows the storage (moving the held rows) only when they do not fit.
    func reserve(_ m: Int) {
        guard rows + m > capacity else { return }
        storage.grow(to: max(rows + m, capacity + capacity / 2))
    }

    /// Rows [end, end + m) have been written.
    func added(_ m: Int) {
        precondition(rows + m <= capacity, "rows added beyond the reserved room")
        end += m
    }
}

/// Floats of scratch memory reused from pass to pass (a conv's gathered input window).
final class Scratch {
    private(set) var count = 0
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    deinit { pointer.deallocate() }

    /// At least `n` floats (their values are left over from earlier use).
    func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
        if n > count {
            pointer.deallocate()
            pointer = .allocate(capacity: n)
            count = n
        }
        return pointer
    }
}

/// A streamed run of one image through a graph model.
public final class GraphPipeline {
    public let model: GraphModel
    /// The image's size, and the size padded to the model's size multiple.
    public let height: Int, width: Int
    let paddedHeight: Int, paddedWidth: Int
    let threads: Int
    /// The run's busy slots (`-j N` shared with the band writer thread, BandWriterThread.swift):
    /// every work item of a pass holds one, so that the run's threads and the writer together keep
    /// at most N cores busy. Nil: no other busy thread.
    let slots: BusySlots?
    private var schedule: GraphRowSchedule
    /// Each node's rows (nil for a virtual concat, which holds none; an in-place chain's nodes
    /// share their host's ring), and the padded image's.
    private let rings: [RowRing?]
    private let image: RowRing
    /// The last real image rows, padded to W' (the reflection below the image reads them): row → (C, W').
    private var tail: [Int: [Float]] = [:]
    private var delivered = 0
    private let window = Scratch()
    /// Virtual concats whose parts share one storage (GraphModel.concatStorage): read in place.
    private let grouped: [Bool]
    /// Rows each node has computed so far (the work-factor check: each row exactly once).
    public private(set) var rowsComputed: [Int]
    /// The most floats of rows held at once so far (GraphModel.pipelinePeakFloats replays it).
    public private(set) var peakFloats = 0
    /// Convolution steps that read their input ring in place (its rows one after another, or
    /// wrapping around its last slot), and that read a gathered copy (a virtual concat's parts
    /// in storages of their own).
    public private(set) var convReads = (inPlace: 0, wrapped: 0, gathered: 0)

    /// Image rows fetched per pass: the model's `fetchRows(forWidth:)` unless told.
    public let fetchRows: Int

    /// A pipeline with no other busy thread to share the cores with (see `slots`).
    public convenience init(model: GraphModel, height: Int, width: Int, threads: Int, fetchRows: Int? = nil,
                            rowAlignment: Int? = nil) {
        self.init(model: model, height: height, width: width, threads: threads, fetchRows: fetchRows,
                  rowAlignment: rowAlignment, slots: nil)
    }

    /// - Parameter rowAlignment: node rows are computed in blocks whose size is a multiple of it
    ///   (GraphRowSchedule.rowBlocks; 1 unless told: as each node's geometry says); the bits do
    ///   not depend on it.
    init(model: GraphModel, height: Int, width: Int, threads: Int, fetchRows: Int? = nil, rowAlignment: Int? = nil,
         slots: BusySlots?) {
        self.slots = slots
        precondition(height > 0 && width > 0, "an image")
        self.fetchRows = max(1, fetchRows ?? model.fetchRows(forWidth: width))
        let model = model.streamedGraph   // with its recomputed copies, if any (GraphModel+Recompute.swift)
        self.model = model
        self.height = height
        self.width = width
        self.paddedHeight = GraphModel.roundUp(height, model.sizeMultiple)
        self.paddedWidth = GraphModel.roundUp(width, model.sizeMultiple)
        self.threads = max(1, threads)
        let rowAlignment = rowAlignment ?? 1
        self.schedule = GraphRowSchedule(model: model, paddedHeight: paddedHeight, fetchRows: self.fetchRows,
                                         rowAlignment: rowAlignment)
        let capacity = model.pipelineRingRows(paddedHeight: paddedHeight, fetchRows: self.fetchRows, rowAlignment: rowAlignment)
        let paddedWidth = self.paddedWidth
        var rings = [RowRing?](repeating: nil, count: model.nodes.count)
        let storage = model.concatStorage(schedule, ringRows: capacity.nodes)
        self.grouped = storage.grouped
        for members in storage.groups {   // side by side along channels, the most rows any of them holds
            let channels = members.map { model.shapes[$0].channels }
            let storage = RowStorage(channels: channels.reduce(0, +), width: model.shapes[members[0]].cols.of(paddedWidth),
                                     capacity: members.map { capacity.nodes[$0] }.max() ?? 1)
            var offset = 0
            for (v, c) in zip(members, channels) {
                rings[v] = RowRing(storage, channels: c, offset: offset)
                offset += c
            }
        }
        for (k, shape) in model.shapes.enumerated() where rings[k] == nil && capacity.nodes[k] > 0 {
            rings[k] = RowRing(channels: shape.channels, width: shape.cols.of(paddedWidth), capacity: capacity.nodes[k])
        }
        for k in rings.indices where schedule.host[k] != k { rings[k] = rings[schedule.host[k]] }   // one ring for the chain
        self.rings = rings
        self.image = RowRing(channels: model.channels.count, width: paddedWidth, capacity: capacity.image)
        self.rowsComputed = [Int](repeating: 0, count: model.nodes.count)
    }

    /// Output rows `rows` (1, C, rows.count, scale·W), asked for in order: each request starts
    /// where the previous one ended. `fetch(r)` returns the image's rows `r` in model space
    /// (1, C, r.count, W), asked for in order, each row once.
    public func outputRows(_ rows: Range<Int>, fetch: (Range<Int>) throws -> Tensor) throws -> Tensor {
        precondition(rows.lowerBound == delivered && rows.upperBound <= model.scale * height, "output rows in order")
        let last = model.nodes.count - 1
        let ring = rings[last]!
        let outWidth = model.scale * width
        // The output rows, cropped to scale·W columns, copied out of the last node's ring after each
        // pass and forgotten there: the ring holds a pass's rows, not the band's.
        let out = try Tensor(shape: [1, ring.channels, rows.count, outWidth]) { dst in   // (1, C, rows.count, scale·W)
            var copied = rows.lowerBound
            func copyDone() {
                let upTo = min(schedule.done[last], rows.upperBound)
                guard upTo > copied else { return }
                for c in 0..<ring.channels {
                    for r in copied..<upTo {
                        (dst.baseAddress! + (c * rows.count + r - rows.lowerBound) * outWidth).update(from: ring.row(c, r), count: outWidth)
                    }
                }
                copied = upTo
                ring.drop(below: upTo)
            }
            copyDone()   // rows the last pass of the band before computed past it
            while schedule.done[last] < rows.upperBound {
                try pass(fetch)
                copyDone()
            }
        }
        delivered = rows.upperBound
        return out
    }

    /// One pass: `fetchRows` more image rows, then sweeps over the nodes, each computing what it can
    /// (GraphRowSchedule.ready), until none can move.
    private func pass(_ fetch: (Range<Int>) throws -> Tensor) throws {
        schedule.startPass()
        let before = schedule.imageFetched
        try fetchImage(upTo: min(paddedHeight, before + fetchRows), fetch)
        var moved = schedule.imageFetched > before, swept = true
        while swept {
            swept = false
            for k in 0..<model.nodes.count {
                let range = schedule.ready(k)
                guard !range.isEmpty else { continue }
                swept = true
                if schedule.virtual[k] {   // a concat its convolutions gather from the parts
                    schedule.finished(k, upTo: range.upperBound)
                    rowsComputed[k] += range.count
                    continue
                }
                let ring = rings[k]!
                let head = schedule.heads[k]   // else its rows are its input's, rewritten in place
                if head { ring.reserve(range.count) }
                computeRows(k, range, into: ring)
                if head { ring.added(range.count) }
                schedule.finished(k, upTo: range.upperBound)
                rowsComputed[k] += range.count
                peakFloats = max(peakFloats, heldFloats)
                // Inputs whose readers have all moved past rows can drop them now.
                for v in model.distinctInputs[k] { dropUnneeded(v) }
            }
            moved = moved || swept
        }
        precondition(moved, "the pipeline made no progress")
    }

    /// Rows the last node's ring has room for (it grows only when a pass's rows do not fit).
    var outputRingCapacity: Int { rings[model.nodes.count - 1]!.capacity }

    private var heldFloats: Int {
        rings.indices.reduce(image.floatCount + tail.count * model.channels.count * paddedWidth) { sum, k in
            schedule.host[k] == k ? sum + (rings[k]?.floatCount ?? 0) : sum   // an in-place chain's ring once
        }
    }

    /// Floats of the rings' storage and the scratch buffers now (the memory the run holds).
    public var allocatedFloats: Int {
        var storages: [ObjectIdentifier: Int] = [ObjectIdentifier(image.storage): image.storage.allocatedFloats]
        for case let ring? in rings { storages[ObjectIdentifier(ring.storage)] = ring.storage.allocatedFloats }
        return storages.values.reduce(tail.count * model.channels.count * paddedWidth + window.count, +)
    }

    private func dropUnneeded(_ v: Int) {
        if v >= 0, schedule.virtual[v] {   // it holds nothing; its parts hold its rows
            for part in model.distinctInputs[v] { dropUnneeded(part) }   // parts are never virtual
            return
        }
        if v == GraphNode.image { return image.drop(below: schedule.keepFrom(v)) }
        // A chain's ring drops as its host's readers move; the rows above the host's are still to be read.
        guard schedule.host[v] == v else { return }
        ring(v).drop(below: min(schedule.keepFrom(v), schedule.done[v]))
    }

    private func ring(_ v: Int) -> RowRing { v == GraphNode.image ? image : rings[v]! }

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
        image.drop(below: schedule.keepFrom(GraphNode.image))
        image.reserve(need - first)
        for ch in 0..<c {
            for i in first..<need {
                let dst = image.row(ch, i)
                if i < height, let real {
                    real.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + (ch * (realEnd - first) + i - first) * paddedWidth,
                                                              count: paddedWidth) }
                } else {
                    guard let row = tail[GraphModel.reflect(i, height)] else { preconditionFailure("tail row \(GraphModel.reflect(i, height)) missing") }
                    row.withUnsafeBufferPointer { dst.update(from: $0.baseAddress! + ch * paddedWidth, count: paddedWidth) }
                }
            }
        }
        image.added(need - first)
        schedule.fetched(upTo: need)
    }

    /// `body(c, row)` for every channel c < `channels` and row of `rows`, split over the run's
    /// threads: each worker owns whole (channel, row) pairs, which write disjoint rows of the output.
    private func forEachRow(channels: Int, rows: Range<Int>, width: Int, _ body: (Int, Int) -> Void) {
        let m = rows.count, count = channels * m
        let perItem = max(1, (1 << 14) / max(1, width))   // about 64 KiB of output per item
        // Under 4 items of work the calling thread does it all: waking a worker costs more.
        parallelFor((count + perItem - 1) / perItem, threads: count * width < 4 << 14 ? 1 : threads) { item in
            inSlot { for i in (item * perItem)..<min(count, (item + 1) * perItem) { body(i / m, rows.lowerBound + i % m) } }
        }
    }

    /// `body` holding one of the run's busy slots, when there are slots.
    private func inSlot(_ body: () -> Void) {
        if let slots { slots.run(body) } else { body() }
    }

    /// Copies rows `rows` of `parts` (one after another along channels) into `window` (C_total, rows.count, W).
    private func gather(_ parts: [RowRing], rows: Range<Int>, into window: UnsafeMutablePointer<Float>) {
        let channels = parts.reduce(0) { $0 + $1.channels }
        let owner = parts.enumerated().flatMap { p, part in (0..<part.channels).map { (p, $0) } }   // channel → (part, its channel)
        let width = parts[0].width
        forEachRow(channels: channels, rows: rows, width: width) { c, r in
            let (p, pc) = owner[c]
            (window + (c * rows.count + r - rows.lowerBound) * width).update(from: parts[p].row(pc, r), count: width)
        }
    }

    /// Conv node k's rows `range` into `out`. The conv reads its input rows `needed` in place, as
    /// a window of exactly those rows (`inputLayout`: the ring's channel stride and its slots, which
    /// the rows may wrap around; taps outside the window read zeros, as outside the map), or, for a
    /// virtual concat whose parts lie in storages of their own, a copy of them gathered into a
    /// window. The kernels store straight into the ring's reserved rows (`outputLayout`, likewise).
    /// The threads split the rows and columns (`workItems`): each item computes its output rows and
    /// columns from the same input window, into its own elements of the ring. The window a conv is
    /// given and where it lies do not change a value's bits (the kernels' per-element order is
    /// fixed), so neither does the split.
    private func convRows(_ k: Int, _ range: Range<Int>, into out: RowRing) {
        let v = model.nodes[k].inputs[0]
        let needed = schedule.inputRows(of: k, v, forOutput: range)
        let m = range.count, wOut = out.width
        // The ring's rows (C, capacity, W'): output row i of a call from map row r0 is map row r0 + i.
        let y = out.base
        func layout(from r0: Int) -> ConvTransposeMapLayout {
            ConvTransposeMapLayout(batchStride: out.storage.channels * out.capacity * wOut,
                                   channelStride: out.capacity * wOut, rowStride: wOut,
                                   firstSlot: r0 % out.capacity, slots: out.capacity)
        }
        let plan = model.plans[k]!
        let phase = schedule.rowBlocks[k].phase   // where the layer's Winograd tiles start (its row geometry's phase)
        let items = Self.workItems(plan, rows: range, phase: phase, width: wOut, threads: threads, slotted: slots != nil)
        func run(_ x: UnsafePointer<Float>, _ inputLayout: ConvTransposeMapLayout?, first: Int, rows: Int, width: Int) {
            if items.count == 1 {
                let kernelThreads = slots == nil ? threads : 1   // in one slot: one thread
                return inSlot {
                    plan.runWindow(input: x, inputOrigin: (first, 0), inputSize: (rows, width), inputLayout: inputLayout,
                                   outputOrigin: (range.lowerBound, 0),
                                   outputSize: (m, wOut), output: y, outputLayout: layout(from: range.lowerBound),
                                   tilePhase: (phase, 0), threads: kernelThreads)
                }
            }
            // Each item owns its rows and columns of every output channel: disjoint elements of the ring.
            parallelFor(items.count, threads: threads) { i in
                let item = items[i]
                inSlot {
                    plan.runWindow(input: x, inputOrigin: (first, 0), inputSize: (rows, width), inputLayout: inputLayout,
                                   outputOrigin: (item.rows.lowerBound, item.columns.lowerBound),
                                   outputSize: (item.rows.count, item.columns.count), output: y + item.columns.lowerBound,
                                   outputLayout: layout(from: item.rows.lowerBound), tilePhase: (phase, 0), threads: 1)
                }
            }
        }
        let parts = v >= 0 && schedule.virtual[v] ? model.nodes[v].inputs.map(ring) : [ring(v)]
        for part in parts {
            precondition(needed.isEmpty || (part.origin <= needed.lowerBound && part.end >= needed.upperBound),
                         "node \(model.nodes[k].name): input rows \(needed) not held (\(part.origin)..<\(part.end))")
        }
        // One value, or a concat whose parts lie side by side in one storage from parts[0] on.
        let together = parts.count == 1 || grouped[v]
        if together && !needed.isEmpty {
            // The storage (C_storage, capacity, W) from parts[0]'s channels: window row i is map row
            // needed.lowerBound + i, in slot (needed.lowerBound + i) mod capacity.
            let input = parts[0], firstSlot = needed.lowerBound % input.capacity
            if firstSlot + needed.count <= input.capacity { convReads.inPlace += 1 } else { convReads.wrapped += 1 }
            let inputLayout = ConvTransposeMapLayout(batchStride: input.storage.channels * input.capacity * input.width,
                                                     channelStride: input.capacity * input.width, rowStride: input.width,
                                                     firstSlot: firstSlot, slots: input.capacity)
            run(input.base, inputLayout, first: needed.lowerBound, rows: needed.count, width: input.width)
        } else {
            convReads.gathered += 1
            let channels = parts.reduce(0) { $0 + $1.channels }, width = parts[0].width
            let x = window.floats(max(1, channels * needed.count * width))   // (C_total, needed, W)
            gather(parts, rows: needed, into: x)
            run(x, nil, first: needed.lowerBound, rows: needed.count, width: width)
        }
    }

    /// How conv node k's rows `rows` of a `width`-wide map are split over the threads: the work
    /// items, each some output rows and columns (all channels), together every element once.
    /// A pass gives a conv few rows, fewer than the kernels' per-thread row blocks, so the columns
    /// are split too. A Winograd layer's items are whole vectors of tiles (64 columns on AVX-512,
    /// from column 0, where the tile grid starts) by groups of `itemTileRows` tile rows (from
    /// `phase`), the kernel's own items: a slice that ends inside a vector computes the whole
    /// vector (a 240-column slice of 960 computed 64 tiles for 60: 7% more products). Their sizes
    /// differ (960 px is 15 vectors), so the column slices are chosen for balance and the items
    /// are ordered largest first, which the threads claim one after another. Other kernels: column
    /// slices of every row, of whole 16-column vectors. Items' bits do not depend on the split.
    /// `slotted`: the run has busy slots (then at least one item per thread where the width
    /// allows, since a single window would run on the kernel's own threads, which hold no slot).
    static func workItems(_ plan: ConvTranspose2DPlan, rows: Range<Int>, phase: Int, width: Int, threads: Int,
                          slotted: Bool) -> [(rows: Range<Int>, columns: Range<Int>)] {
        guard threads > 1, !rows.isEmpty else { return [(rows, 0..<width)] }
        guard let pack = plan.winograd else {
            let unit = 16   // slice widths in whole vectors
            // At least 128 columns each (a call has a setup cost); with busy slots at least one per thread.
            let fewest = slotted ? min(threads, max(1, width / unit)) : 1
            let slices = max(fewest, min(2 * threads, width / (8 * unit)))
            let cw = slices == 1 ? width : ((width + slices - 1) / slices + unit - 1) / unit * unit
            return stride(from: 0, to: width, by: cw).map { (rows, $0..<min(width, $0 + cw)) }
        }
        let tile = ConvTransposeWinogradPack.outputTile
        let vectorColumns = tile * pack.lanes * pack.tileVectors
        let vectors = (width + vectorColumns - 1) / vectorColumns
        // Row groups: `itemTileRows` rows of tiles each, tiles starting at rows ≡ phase (mod 4).
        let groupRows = tile * ConvTranspose2DWinograd.itemTileRows
        let firstGroup = floorDiv(rows.lowerBound - phase, groupRows)
        let lastGroup = floorDiv(rows.upperBound - 1 - phase, groupRows)
        let groups = (firstGroup...lastGroup).map { j in
            max(rows.lowerBound, phase + j * groupRows)..<min(rows.upperBound, phase + (j + 1) * groupRows)
        }
        // Column slices: at least two vectors (128 columns) each, as the other kernels' (a call has a
        // setup cost; SPAN's 256-px maps keep 2 slices, RRDBNet's 128-px maps 1); the fewest from 2
        // items per thread on whose items (in vectors × rows, largest first, each to the thread free
        // first) no thread works more than 2% over an equal share.
        func slices(_ s: Int) -> [Range<Int>] {   // s near-equal runs of whole vectors, in columns
            (0..<s).map { i in
                let v0 = i * vectors / s, v1 = (i + 1) * vectors / s
                return (v0 * vectorColumns)..<min(width, v1 * vectorColumns)
            }
        }
        func items(_ s: Int) -> [(rows: Range<Int>, columns: Range<Int>, size: Int)] {
            groups.flatMap { r in
                slices(s).map { c in (r, c, r.count * ((c.count + vectorColumns - 1) / vectorColumns)) }
            }.sorted { $0.size > $1.size }
        }
        func makespan(_ list: [(rows: Range<Int>, columns: Range<Int>, size: Int)]) -> Int {
            var load = [Int](repeating: 0, count: threads)
            for item in list { load[load.indices.min { load[$0] < load[$1] }!] += item.size }
            return load.max()!
        }
        let most = max(1, vectors / 2)
        let first = min(most, max(1, (2 * threads + groups.count - 1) / groups.count))
        var best = items(first)
        for s in first...most {
            let list = items(s)
            let total = list.reduce(0) { $0 + $1.size }
            if makespan(list) < makespan(best) { best = list }
            if 50 * makespan(best) <= 51 * (total + threads - 1) / threads { break }
        }
        return best.map { ($0.rows, $0.columns) }
    }

    /// Node k's output rows `range`, (C, range.count, W_k), written into its ring's reserved rows.
    private func computeRows(_ k: Int, _ range: Range<Int>, into out: RowRing) {
        let node = model.nodes[k]
        if case .conv = node.op { return convRows(k, range, into: out) }
        for v in node.inputs {
            let held = ring(v), needed = schedule.inputRows(of: k, v, forOutput: range)
            precondition(needed.isEmpty || (held.origin <= needed.lowerBound && held.end >= needed.upperBound),
                         "node \(node.name): input rows \(needed) not held (\(held.origin)..<\(held.end))")
        }
        let inputs = node.inputs.map(ring)
        let first = inputs[0]
        let wOut = out.width
        switch node.op {
        case .conv:
            preconditionFailure("convolutions run in convRows")
        case .add(let scales):
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, r in
                ElementwiseOps.add(inputs.map { UnsafePointer($0.row(c, r)) }, scales: scales, count: wOut, into: out.row(c, r))
            }
        case .mul:
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, r in
                ElementwiseOps.mul(inputs[0].row(c, r), inputs[1].row(c, r), count: wOut, into: out.row(c, r))
            }
        case .affine(let shift, let scale):
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, r in
                ElementwiseOps.affine(first.row(c, r), shift: shift.count == 1 ? shift[0] : shift[c],
                                      scale: scale.count == 1 ? scale[0] : scale[c], count: wOut, into: out.row(c, r))
            }
        case .sigmoid, .silu, .leakyReLU, .prelu:
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, r in
                let activation: Activation
                switch node.op {
                case .sigmoid: activation = .sigmoid
                case .silu: activation = .silu
                case .leakyReLU(let slope): activation = .leakyReLU(slope)
                case .prelu(let slopes): activation = .prelu([slopes.count == 1 ? slopes[0] : slopes[c]])
                default: preconditionFailure("not an activation node")
                }
                ElementwiseOps.activation(activation, first.row(c, r), count: wOut, into: out.row(c, r))
            }
        case .concat:
            let owner = inputs.enumerated().flatMap { p, part in (0..<part.channels).map { (p, $0) } }   // channel → (part, its channel)
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, r in
                out.row(c, r).update(from: inputs[owner[c].0].row(owner[c].1, r), count: wOut)
            }
        case .pixelShuffle(let r):
            // y[c][h·r + i][w·r + j] = x[c·r² + i·r + j][h][w]
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, oy in
                let (h, i) = (oy / r, oy % r)
                ShuffleOps.pixelShuffleRow((0..<r).map { j in UnsafePointer(first.row(c * r * r + i * r + j, h)) },
                                           width: first.width, into: out.row(c, oy))
            }
        case .pixelUnshuffle(let r):
            // y[c·r² + i·r + j][h][w] = x[c][h·r + i][w·r + j]
            forEachRow(channels: out.channels, rows: range, width: wOut) { o, h in
                let (c, i, j) = (o / (r * r), (o / r) % r, o % r)
                ShuffleOps.pixelUnshuffleRow(first.row(c, h * r + i), factor: r, phase: j, outputWidth: wOut, into: out.row(o, h))
            }
        case .upsampleNearest(let r):
            forEachRow(channels: out.channels, rows: range, width: wOut) { c, oy in
                ShuffleOps.upsampleNearestRow(first.row(c, oy / r), factor: r, width: first.width, into: out.row(c, oy))
            }
        }
    }
}
