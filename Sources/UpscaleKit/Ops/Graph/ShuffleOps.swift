// The nodes that move pixels between positions and channels, exactly as PyTorch's
// F.pixel_shuffle, F.pixel_unshuffle and F.interpolate(mode="nearest") at an integer factor r.
//
//   pixel_shuffle    x (C·r², H, W)   → y (C, H·r, W·r):   y[c][h·r + i][w·r + j] = x[c·r² + i·r + j][h][w]
//   pixel_unshuffle  x (C, H·r, W·r)  → y (C·r², H, W):    y[c·r² + i·r + j][h][w] = x[c][h·r + i][w·r + j]
//   upsample_nearest x (C, H, W)      → y (C, H·r, W·r):   y[c][y][x] = x[c][⌊y/r⌋][⌊x/r⌋]
//
// Each function writes the output rows `rows` (a window of the output, (Cout, rows.count, Wout))
// from an input window holding rows `inputRowOrigin ..< inputRowOrigin + inputRows` of the whole
// input, (Cin, inputRows, Win), which must contain every input row those output rows read
// (`inputRows(forOutput:)`). Copies only: the values are the input's bits.

enum ShuffleOps {
    /// The input rows that output rows `rows` read, for a node that multiplies the height by
    /// `up` (shuffle, upsample: up = r) or divides it by `down` (unshuffle: down = r).
    static func inputRows(forOutput rows: Range<Int>, up: Int, down: Int) -> Range<Int> {
        guard !rows.isEmpty else { return rows.lowerBound..<rows.lowerBound }
        return (rows.lowerBound * down / up)..<((rows.upperBound - 1) * down / up + down)
    }

    static func pixelShuffle(_ x: UnsafePointer<Float>, inputChannels: Int, inputRowOrigin: Int, inputRows: Int,
                             inputWidth: Int, factor r: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let cOut = inputChannels / (r * r)
        let wOut = inputWidth * r
        for c in 0..<cOut {
            for (k, oy) in rows.enumerated() {
                let (h, i) = (oy / r - inputRowOrigin, oy % r)
                precondition(h >= 0 && h < inputRows, "pixel_shuffle: input row outside the window")
                let dst = y + (c * rows.count + k) * wOut
                for j in 0..<r {
                    let src = x + ((c * r * r + i * r + j) * inputRows + h) * inputWidth
                    for w in 0..<inputWidth { dst[w * r + j] = src[w] }
                }
            }
        }
    }

    static func pixelUnshuffle(_ x: UnsafePointer<Float>, inputChannels: Int, inputRowOrigin: Int, inputRows: Int,
                               inputWidth: Int, factor r: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let wOut = inputWidth / r
        for c in 0..<inputChannels {
            for i in 0..<r {
                for j in 0..<r {
                    let o = c * r * r + i * r + j
                    for (k, h) in rows.enumerated() {
                        let row = h * r + i - inputRowOrigin
                        precondition(row >= 0 && row < inputRows, "pixel_unshuffle: input row outside the window")
                        let src = x + (c * inputRows + row) * inputWidth
                        let dst = y + (o * rows.count + k) * wOut
                        for w in 0..<wOut { dst[w] = src[w * r + j] }
                    }
                }
            }
        }
    }

    static func upsampleNearest(_ x: UnsafePointer<Float>, inputChannels: Int, inputRowOrigin: Int, inputRows: Int,
                                inputWidth: Int, factor r: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let wOut = inputWidth * r
        for c in 0..<inputChannels {
            for (k, oy) in rows.enumerated() {
                let h = oy / r - inputRowOrigin
                precondition(h >= 0 && h < inputRows, "upsample_nearest: input row outside the window")
                let src = x + (c * inputRows + h) * inputWidth
                let dst = y + (c * rows.count + k) * wOut
                for w in 0..<inputWidth {
                    let v = src[w]
                    for j in 0..<r { dst[w * r + j] = v }
                }
            }
        }
    }
}
