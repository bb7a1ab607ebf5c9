// EXIF orientation: find tag 0x0112 in IFD0 of an APP1 "Exif\0\0" payload, and apply it.
//
// APP1 payload: "Exif\0\0" | TIFF header: "II*\0" (little-endian) or "MM\0*" (big-endian), u32 offset
// of IFD0 | IFD0: u16 entry count, entries of 12 bytes (u16 tag, u16 type, u32 count, 4-byte value).
// Offsets count from the TIFF header. Orientation is type SHORT (3), count 1, value in the first
// 2 bytes of the value field. Anything malformed or out of range reads as 1 (no change).
//
// Orientation → how to display the stored (H, W) image:
//   1 as is          2 flip left-right     3 rotate 180°         4 flip top-bottom
//   5 transpose      6 rotate 90° clockwise 7 transverse         8 rotate 90° counter-clockwise
// (5–8 swap height and width.)

public enum ExifOrientation {
    /// The orientation (1...8) stored in an APP1 payload starting with "Exif\0\0"; 1 when absent
    /// or malformed.
    public static func parse(_ payload: [UInt8]) -> Int {
        guard payload.count >= 6, payload[0..<6].elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0]) else { return 1 }
        return orientation(inTIFF: Array(payload[6...]))
    }

    /// The orientation (1...8) in EXIF's TIFF bytes (a PNG eXIf chunk, an APP1 payload after its
    /// prefix); 1 when absent or malformed.
    public static func orientation(inTIFF tiff: [UInt8]) -> Int {
        guard let entry = orientationEntry(tiff) else { return 1 }
        let (a, b) = (Int(tiff[entry.value]), Int(tiff[entry.value + 1]))
        let value = entry.littleEndian ? a | b << 8 : a << 8 | b
        return (1...8).contains(value) ? value : 1
    }

    /// `tiff` with its orientation entry set to `value` (what is written after the rotation has
    /// been applied: 1); unchanged when it has none.
    public static func settingOrientation(_ value: Int, inTIFF tiff: [UInt8]) -> [UInt8] {
        guard let entry = orientationEntry(tiff) else { return tiff }
        var result = tiff
        let (hi, lo) = (UInt8(value >> 8), UInt8(value & 0xFF))
        (result[entry.value], result[entry.value + 1]) = entry.littleEndian ? (lo, hi) : (hi, lo)
        return result
    }

    /// Where IFD0's orientation entry (tag 0x0112, type SHORT) keeps its value, and the byte order.
    private static func orientationEntry(_ tiff: [UInt8]) -> (value: Int, littleEndian: Bool)? {
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): littleEndian = true
        case (0x4D, 0x4D): littleEndian = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let (a, b) = (Int(tiff[at]), Int(tiff[at + 1]))
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(littleEndian ? at : at + 2), let hi = u16(littleEndian ? at + 2 : at) else { return nil }
            return lo | hi << 16
        }
        guard u16(2) == 42, let ifdOffset = u32(4), let count = u16(ifdOffset) else { return nil }
        for entry in 0..<count {
            let at = ifdOffset + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112 {
                guard u16(at + 2) == 3, u16(at + 8) != nil else { return nil }
                return (at + 8, littleEndian)
            }
        }
        return nil
    }

    /// (row, column) of the stored pixel displayed at (`row`, `column`), for `orientation` 2…8 of a
    /// stored image `height` × `width` (orientation 1 is the identity).
    @inline(__always)
    static func storedPixel(row r: Int, column c: Int, orientation: Int, height h: Int, width w: Int) -> (Int, Int) {
        switch orientation {
        case 2: (r, w - 1 - c)
        case 3: (h - 1 - r, w - 1 - c)
        case 4: (h - 1 - r, c)
        case 5: (c, r)
        case 6: (h - 1 - c, r)
        case 7: (h - 1 - c, w - 1 - r)
        case 8: (c, w - 1 - r)
        default: (r, c)
        }
    }

    /// The image as it should be displayed: `tensor` (N, C, H, W) → (N, C, H', W') with
    /// H' = W, W' = H for orientations 5–8.
    public static func apply(_ orientation: Int, to tensor: Tensor) -> Tensor {
        guard (2...8).contains(orientation) else { return tensor }
        precondition(tensor.rank == 4, "orientation needs (N, C, H, W)")
        let (planes, h, w) = (tensor.shape[0] * tensor.shape[1], tensor.shape[2], tensor.shape[3])
        let swaps = orientation >= 5
        let (outH, outW) = swaps ? (w, h) : (h, w)
        var out = [Float](repeating: 0, count: tensor.count)
        tensor.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<planes {
                    let s = p * h * w
                    for r in 0..<outH {
                        for c in 0..<outW {
                            let (sr, sc) = storedPixel(row: r, column: c, orientation: orientation, height: h, width: w)
                            dst[s + r * outW + c] = src[s + sr * w + sc]
                        }
                    }
                }
            }
        }
        return Tensor(shape: [tensor.shape[0], tensor.shape[1], outH, outW], data: out)
    }
}
