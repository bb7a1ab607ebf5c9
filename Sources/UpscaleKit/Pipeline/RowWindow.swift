// The rows of the model-space input that the streaming path keeps: a window [origin, end) of the
// image that only moves down. New rows are appended at the bottom as the reader delivers them;
// rows above the next band's reads are dropped. Memory: (reads of one band + one read) rows.

struct RowWindow {
    private(set) var origin = 0
    private(set) var stack: Tensor?   // (1, Cmodel, rows, W)
    private(set) var chroma: Tensor?  // (1, 2, rows, W), y model on RGB only
    private(set) var alpha: Tensor?   // (1, 1, rows, W), images with alpha only
    private(set) var color: Tensor?   // (1, C, rows, W), straight colour, images with alpha only (the fill reads it)

    var rows: Int { stack?.shape[2] ?? 0 }
    /// One past the last image row held.
    var end: Int { origin + rows }

    /// Appends the next rows of the image (they start at `end`).
    mutating func append(stack newStack: Tensor, chroma newChroma: Tensor?, alpha newAlpha: Tensor?, color newColor: Tensor?) {
        stack = RowWindow.concatRows(stack, newStack)
        chroma = newChroma.map { RowWindow.concatRows(chroma, $0) }
        alpha = newAlpha.map { RowWindow.concatRows(alpha, $0) }
        color = newColor.map { RowWindow.concatRows(color, $0) }
    }

    /// Forgets the rows above `row` (no-op when there are none).
    mutating func drop(below row: Int) {
        let k = min(max(0, row - origin), rows)
        guard k > 0 else { return }
        stack = stack.map { RowWindow.dropRows($0, k) }
        chroma = chroma.map { RowWindow.dropRows($0, k) }
        alpha = alpha.map { RowWindow.dropRows($0, k) }
        color = color.map { RowWindow.dropRows($0, k) }
        origin += k
    }

    // src = a (1, C, ha, W), b (1, C, hb, W) / dst = (1, C, ha + hb, W): b's rows below a's, per channel.
    private static func concatRows(_ a: Tensor?, _ b: Tensor) -> Tensor {
        guard let a, a.shape[2] > 0 else { return b }
        precondition(a.shape[1] == b.shape[1] && a.shape[3] == b.shape[3], "window rows of another shape")
        let (c, ha, hb, w) = (a.shape[1], a.shape[2], b.shape[2], a.shape[3])
        var out = [Float]()
        out.reserveCapacity(c * (ha + hb) * w)
        for ch in 0..<c {
            out.append(contentsOf: a.data[(ch * ha * w)..<((ch + 1) * ha * w)])
            out.append(contentsOf: b.data[(ch * hb * w)..<((ch + 1) * hb * w)])
        }
        return Tensor(shape: [1, c, ha + hb, w], data: out)
    }

    // src = (1, C, h, W) / dst = (1, C, h − k, W): the top k rows of every channel removed.
    private static func dropRows(_ t: Tensor, _ k: Int) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        var out = [Float]()
        out.reserveCapacity(c * (h - k) * w)
        for ch in 0..<c { out.append(contentsOf: t.data[((ch * h + k) * w)..<((ch + 1) * h * w)]) }
        return Tensor(shape: [1, c, h - k, w], data: out)
    }
}
