// Where a conv kernel reads its input and stores its output: strides in floats, ggml-style, plus a
// ring of row slots, so that a kernel can read and write a caller's storage in place (the graph
// pipeline's rings of rows, GraphPipeline.convRows) instead of dense (N, C, H, W) buffers that are
// gathered before and copied after.
//
//   element (n, c, h, w) at  n·batchStride + c·channelStride + ((firstSlot + h) mod slots)·rowStride + w
//
// The dense layout of an (N, C, H, W) map is batchStride = C·H·W, channelStride = H·W, rowStride = W,
// firstSlot = 0, slots = H (no row wraps). Columns are always dense (stride 1): the kernels copy
// input rows into their bands and store runs of consecutive output columns. A layout moves where
// values are read and stored, never how they are computed: the same bits.

/// The strides of a feature map a conv kernel reads or writes (see the header).
public struct ConvTransposeMapLayout: Sendable, Equatable {
    public var batchStride: Int
    public var channelStride: Int
    public var rowStride: Int
    /// The slot of row 0, and the slots rows wrap around: row h is in slot (firstSlot + h) mod slots.
    public var firstSlot: Int
    public var slots: Int

    public init(batchStride: Int, channelStride: Int, rowStride: Int, firstSlot: Int = 0, slots: Int) {
        precondition(slots >= 1 && firstSlot >= 0, "a ring of at least one row slot")
        self.batchStride = batchStride
        self.channelStride = channelStride
        self.rowStride = rowStride
        self.firstSlot = firstSlot
        self.slots = slots
    }

    /// The dense (N, channels, height, width) layout.
    public static func dense(channels: Int, height: Int, width: Int) -> ConvTransposeMapLayout {
        ConvTransposeMapLayout(batchStride: channels * height * width, channelStride: height * width,
                               rowStride: width, slots: max(1, height))
    }

    /// Floats from the map's first element to element (n, c, h, 0). `h` may be any row a kernel
    /// names (rows outside the map are never read or stored: their offset is only computed).
    @inline(__always)
    func offset(_ n: Int, _ c: Int, _ h: Int) -> Int {
        var slot = (firstSlot &+ h) % slots
        if slot < 0 { slot &+= slots }
        return n &* batchStride &+ c &* channelStride &+ slot &* rowStride
    }

    /// Whether the `rows` rows from row 0 of each channel lie one after another, `width` apart,
    /// as in the dense layout.
    func rowsContiguous(_ rows: Int, width: Int) -> Bool {
        rowStride == width && firstSlot + rows <= slots
    }
}

/// A kernel call's two layouts: where its input lies and where its output goes.
struct ConvTransposeLayouts: Sendable {
    var input: ConvTransposeMapLayout
    var output: ConvTransposeMapLayout
}
