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
// (`inputRows(forOutput:)`). The `…Row` functions write one output row from pointers to the input
// rows it reads (the streamed pipeline's rings). Copies only: the values are the input's bits.

enum ShuffleOps {
    /// The input rows that output rows `rows` read, for a node that multiplies the height by
    /// `up` (shuffle, upsample: up = r) or divides it by `down` (unshuffle: down = r).
    static func inputRows(forOutput rows: Range<Int>, up: Int, down: Int) -> Range<Int> {
        guard !rows.isEmpty else { return rows.lowerBound..<rows.lowerBound }
        return (rows.lowerBound * down / up)..<((rows.upperBound - 1) * down / up + down)
    }

    /// One output row of pixel_shuffle: dst (W·r) from the r input rows `src[j]` (W each) of
    /// channels c·r² + i·r + j, j = 0 ..< r, at the output row's input row: dst[w·r + j] = src[j][w].
    static func pixelShuffleRow(_ src: [UnsafePointer<Float>], width: Int, into dst: UnsafeMutablePointer<Float>) {
        let r = src.count
        if r == 2 {   // the common factor
            interleave(src[0], src[1], width: width, into: dst)
            return
        }
        for j in 0..<r {
            let s = src[j]
            for w in 0..<width { dst[w * r + j] = s[w] }
        }
    }

    /// dst (2·W) = a[0], b[0], a[1], b[1], …: pairs of lanes interleaved by SIMD shuffles.
    static func interleave(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, width: Int, into dst: UnsafeMutablePointer<Float>) {
        let whole = width / 8 * 8
        for w in stride(from: 0, to: whole, by: 8) {
            let x = UnsafeRawPointer(a + w).loadUnaligned(as: SIMD8<Float>.self)
            let y = UnsafeRawPointer(b + w).loadUnaligned(as: SIMD8<Float>.self)
            let lo = SIMD8<Float>(x[0], y[0], x[1], y[1], x[2], y[2], x[3], y[3])
            let hi = SIMD8<Float>(x[4], y[4], x[5], y[5], x[6], y[6], x[7], y[7])
            UnsafeMutableRawPointer(dst + 2 * w).storeBytes(of: lo, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dst + 2 * w + 8).storeBytes(of: hi, as: SIMD8<Float>.self)
        }
        for w in whole..<width { dst[2 * w] = a[w]; dst[2 * w + 1] = b[w] }
    }

    /// One output row of pixel_unshuffle for output channel c·r² + i·r + j: dst (W/r) from input
    /// row h·r + i of channel c, `src` (W): dst[w] = src[w·r + j].
    static func pixelUnshuffleRow(_ src: UnsafePointer<Float>, factor r: Int, phase j: Int, outputWidth: Int,
                                  into dst: UnsafeMutablePointer<Float>) {
        for w in 0..<outputWidth { dst[w] = src[w * r + j] }
    }

    /// One output row of upsample_nearest: dst (W·r) from the input row `src` (W): dst[w·r + j] = src[w].
    static func upsampleNearestRow(_ src: UnsafePointer<Float>, factor r: Int, width: Int, into dst: UnsafeMutablePointer<Float>) {
        if r == 2 {   // the common factor: each value beside itself
            interleave(src, src, width: width, into: dst)
            return
        }
        for w in 0..<width {
            let v = src[w]
            for j in 0..<r { dst[w * r + j] = v }
        }
    }

    static func pixelShuffle(_ x: UnsafePointer<Float>, inputChannels: Int, inputRowOrigin: Int, inputRows: Int,
                             inputWidth: Int, factor r: Int, rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let cOut = inputChannels / (r * r)
        let wOut = inputWidth * r
        for c in 0..<cOut {
            for (k, oy) in rows.enumerated() {
                let (h, i) = (oy / r - inputRowOrigin, oy % r)
                precondition(h >= 0 && h < inputRows, "pixel_shuffle: input row outside the window")
                let src = (0..<r).map { j in UnsafePointer(x + ((c * r * r + i * r + j) * inputRows + h) * inputWidth) }
                pixelShuffleRow(src, width: inputWidth, into: y + (c * rows.count + k) * wOut)
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
                        pixelUnshuffleRow(x + (c * inputRows + row) * inputWidth, factor: r, phase: j, outputWidth: wOut,
                                          into: y + (o * rows.count + k) * wOut)
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
                upsampleNearestRow(x + (c * inputRows + h) * inputWidth, factor: r, width: inputWidth,
                                   into: y + (c * rows.count + k) * wOut)
            }
        }
    }
}
