// Colour with alpha is upscaled premultiplied, so that the colour of transparent pixels (which a
// PNG may hold anything in) never bleeds into visible ones. The linear part (the model's bicubic
// or nearest residual, the chroma of a y model) upscales the premultiplied colour, as Pillow's
// RGBA resize does; the network, which is not linear, reads the straight colour with the
// transparent pixels filled from their visible neighbours, so that it sees no edge where only
// alpha changes, and its output is scaled by the upscaled alpha:
//
//   in     P = C · A                                   straight colour C, alpha A, per channel
//          S = C · A + N · (1 − A)                     N: the alpha-weighted mean colour of the
//                                                      (2r+1)² box around the pixel (0 if none is
//                                                      visible), r = the model's halo + 2; box
//                                                      sums in exact integers (`fixedOne`)
//   up     A' = clamp(bicubic(A))
//          P' = clamp(residual(P) + A' · stack(S))     in the model's space, then its colours
//   out    C' = min(P' / A', 1)  where A' > 0;  C' = 0 where A' = 0 (a fully transparent pixel)
//
// An output pixel with A' > 0 is within 2 input pixels of a visible one, and the stack reads at
// most `halo` pixels around it, so every pixel the stack reads there has a visible pixel in its box.
// With A = 1 everywhere every step is an exact identity (x · 1, x + 0, x / 1, and the bicubic of
// a constant 1 plane is exactly 1: its weights sum to 1 in Double before the one rounding to
// Float), so an opaque image keeps its bits whether or not its file has an alpha channel. S and N
// depend only on the image, not on the band or tile, so the output bits do not either.

enum Alpha {
    /// src = color (1, C, rows, W), alpha (1, 1, rows, W) / dst = (1, C, rows, W): colour · alpha.
    static func premultiplied(_ color: Tensor, by alpha: Tensor) -> Tensor {
        let (c, rows, w) = (color.shape[1], color.shape[2], color.shape[3])
        precondition(alpha.shape == [1, 1, rows, w], "alpha (1, 1, rows, W) for colour \(color.shape)")
        let plane = rows * w
        return Tensor(shape: color.shape) { out in
            color.withUnsafeBufferPointer { color in
                alpha.withUnsafeBufferPointer { a in
                    for k in 0..<c {
                        for i in 0..<plane { out[k * plane + i] = color[k * plane + i] * a[i] }
                    }
                }
            }
        }
    }

    /// The box radius of the fill for a model whose stack reads `halo` input pixels around each
    /// output pixel: the halo plus the bicubic's reach.
    static func fillRadius(halo: Int) -> Int { halo + 2 }

    /// The box sums are of integers, a·C and a in units of 2^−24 (rounded per pixel), so they are
    /// exact: running sums along a row and down the rows give the same totals whatever the band.
    static let fixedOne: Float = 16_777_216

    /// The network's input rows `rows` of the image: S = C·A + N·(1 − A) (N over the box of
    /// `radius`, clipped to the image), or C itself where A = 1.
    /// - Parameters: `color` (1, C, n, W) straight and `alpha` (1, 1, n, W), the image rows
    ///   `origin ..< origin + n`, which must hold `rows` widened by `radius` and clipped to
    ///   `0 ..< imageHeight`.
    /// - Returns: (1, C, rows.count, W).
    static func filled(_ color: Tensor, alpha: Tensor, origin: Int, rows: Range<Int>, imageHeight: Int,
                       radius r: Int) -> Tensor {
        let (c, n, w) = (color.shape[1], color.shape[2], color.shape[3])
        let need = max(0, rows.lowerBound - r)..<min(imageHeight, rows.upperBound + r)
        precondition(alpha.shape == [1, 1, n, w] && origin <= need.lowerBound && need.upperBound <= origin + n,
                     "the window does not hold the fill's rows")
        let plane = n * w
        // Every pixel of `rows` opaque: S = C, and the rows are a copy.
        let opaque = alpha.data[((rows.lowerBound - origin) * w)..<((rows.upperBound - origin) * w)].allSatisfy { $0 == 1 }
        if opaque { return Model.rows((rows.lowerBound - origin)..<(rows.upperBound - origin), of: color) }
        // Horizontal box sums of the rows `need`, (need, C + 1, W): weighted colour k < C, weight k = C.
        let sums = c + 1
        var box = [Int64](repeating: 0, count: need.count * sums * w)
        var values = [Int64](repeating: 0, count: w)
        color.withUnsafeBufferPointer { color in
        alpha.withUnsafeBufferPointer { a in
            for (j, y) in need.enumerated() {
                let src = (y - origin) * w
                for k in 0..<sums {
                    for x in 0..<w {
                        let v = k < c ? a[src + x] * color[k * plane + src + x] : a[src + x]
                        values[x] = Int64((v * fixedOne).rounded())
                    }
                    var running: Int64 = 0   // Σ values[x − r ... x + r] within the row
                    for x in 0..<min(w, r) { running += values[x] }
                    let out = (j * sums + k) * w
                    for x in 0..<w {
                        if x + r < w { running += values[x + r] }
                        if x - r - 1 >= 0 { running -= values[x - r - 1] }
                        box[out + x] = running
                    }
                }
            }
        }
        }
        // Then down the columns: the running sum of the box rows of each output row.
        var column = [Int64](repeating: 0, count: sums * w)   // (C + 1, W)
        func addRow(_ y: Int, _ sign: Int64) {
            let at = (y - need.lowerBound) * sums * w
            for i in 0..<(sums * w) { column[i] += sign * box[at + i] }
        }
        var (top, bottom) = (max(need.lowerBound, rows.lowerBound - r), max(need.lowerBound, rows.lowerBound - r))
        return Tensor(shape: [1, c, rows.count, w]) { out in
            color.withUnsafeBufferPointer { color in
            alpha.withUnsafeBufferPointer { a in
                for (i, y) in rows.enumerated() {
                    // The box rows of y: [y − r, y + r] within `need`.
                    while bottom < min(need.upperBound, y + r + 1) { addRow(bottom, 1); bottom += 1 }
                    while top < max(need.lowerBound, y - r) { addRow(top, -1); top += 1 }
                    let src = (y - origin) * w
                    for x in 0..<w {
                        let alpha = a[src + x]
                        let weight = column[c * w + x]
                        for k in 0..<c {
                            let straight = color[k * plane + src + x]
                            guard alpha != 1 else { out[(k * rows.count + i) * w + x] = straight; continue }
                            let mean = weight > 0 ? Float(Double(column[k * w + x]) / Double(weight)) : 0
                            out[(k * rows.count + i) * w + x] = straight * alpha + mean * (1 - alpha)
                        }
                    }
                }
            }
            }
        }
    }
}
