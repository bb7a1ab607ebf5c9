// Test-time augmentation: the stack run on the 8 flips/rotations of the image, each result turned
// back, averaged. Needs the whole image (the upscale loop reads it all first when TTA is on).

import Foundation

extension Model {
    /// Test-time augmentation: the stack's output averaged over the 8 elements of the dihedral
    /// group (transpose?, flip rows?, flip columns?). Each pass runs the stack on the transformed
    /// image and undoes the transform on the result; the passes are summed in this fixed order,
    /// then divided by 8.
    func stackAveragedOverFlips(_ input: Tensor, tileSize: Int, threads: Int, tracker: RunTracker) throws -> Tensor {
        var sum: Tensor? = nil
        for k in 0..<8 {
            let (transpose, flipRows, flipCols) = (k & 4 != 0, k & 2 != 0, k & 1 != 0)
            let x = Dihedral.apply(input, transpose: transpose, flipRows: flipRows, flipCols: flipCols)
            let y = try stackWholeImage(x, tileSize: tileSize, threads: threads, tracker: tracker)
            let back = Dihedral.invert(y, transpose: transpose, flipRows: flipRows, flipCols: flipCols)
            if var s = sum {
                s.withUnsafeMutableBufferPointer { acc in for i in 0..<acc.count { acc[i] += back.data[i] } }
                sum = s
            } else {
                sum = back
            }
        }
        guard var result = sum else { preconditionFailure("8 passes ran") }
        result.withUnsafeMutableBufferPointer { acc in for i in 0..<acc.count { acc[i] /= 8 } }
        return result
    }
}

/// The dihedral transforms of a (1, C, H, W) tensor used by test-time augmentation.
enum Dihedral {
    /// First transpose (swap H and W), then flip rows (vertical), then flip columns (horizontal).
    static func apply(_ t: Tensor, transpose: Bool, flipRows: Bool, flipCols: Bool) -> Tensor {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        let (oh, ow) = transpose ? (w, h) : (h, w)
        var out = [Float](repeating: 0, count: t.count)
        for ch in 0..<c {
            for y in 0..<oh {
                let sy = flipRows ? oh - 1 - y : y
                for x in 0..<ow {
                    let sx = flipCols ? ow - 1 - x : x
                    // (sy, sx) in the transposed frame; (sx, sy) in the source when transposed.
                    let src = transpose ? (ch * h + sx) * w + sy : (ch * h + sy) * w + sx
                    out[(ch * oh + y) * ow + x] = t.data[src]
                }
            }
        }
        return Tensor(shape: [1, c, oh, ow], data: out)
    }

    /// The inverse of `apply` with the same flags: flips first (they are their own inverses), then transpose.
    static func invert(_ t: Tensor, transpose: Bool, flipRows: Bool, flipCols: Bool) -> Tensor {
        let unflipped = apply(t, transpose: false, flipRows: flipRows, flipCols: flipCols)
        return transpose ? apply(unflipped, transpose: true, flipRows: false, flipCols: false) : unflipped
    }
}
