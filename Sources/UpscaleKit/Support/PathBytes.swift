// Paths are bytes. Linux file names are any bytes but `/` and NUL, not necessarily UTF-8
// (`caf\xe9.png`, written by a Latin-1 system). The code handles paths as Swift `String`s, so each
// path crosses into a String and back with a lossless mapping, like Python's `surrogateescape`:
//
//   bytes → String   each maximal well-formed UTF-8 sequence becomes its scalar; every byte that
//                    is not part of one becomes the private-use scalar U+10FF00 + byte (U+10FFE9
//                    for 0xE9). So that the mapping stays one-to-one, a well-formed sequence that
//                    decodes into that range itself (F4 8F BC 80 ... F4 8F BF BF) is escaped
//                    byte by byte as well.
//   String → bytes   U+10FF00 ... U+10FFFF become the byte (scalar − U+10FF00); every other
//                    scalar its UTF-8.
//
// bytes → String → bytes gives back the same bytes, for every byte string. Valid UTF-8 that
// avoids the range (every real name) maps to the String it spells, so nothing changes for it.
// The boundaries: argv (Upscale.swift), readdir and realpath (FileSystem.swift), and every system
// call that takes a path, through `pathCString`. Foundation's String-path APIs (FileManager,
// URL) write a String's UTF-8 and so must not be given paths. For people, TerminalText shows an
// escaped byte as `\xe9`; `--json` adds the exact bytes in hex (docs/cli.md, "Paths are bytes").

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The byte ↔ String mapping of paths.
public enum PathBytes {
    /// The first of the 256 scalars that stand for single bytes: U+10FF00 + byte.
    static let escapeBase: UInt32 = 0x10_FF00

    /// The byte that `scalar` stands for, or nil when it is an ordinary scalar.
    @inline(__always)
    public static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= escapeBase ? UInt8(truncatingIfNeeded: scalar.value - escapeBase) : nil
    }

    /// The String for a path's bytes (no NUL among them).
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let bytes = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var k = 0
        while k < bytes.count {
            let length = wellFormedLength(bytes, at: k)
            if length > 0, let scalar = decode(bytes[k..<(k + length)]), scalar.value < escapeBase {
                scalars.append(scalar)
            } else {
                // Not UTF-8 here (length 0), or UTF-8 for a scalar of the escape range: byte by byte.
                for byte in bytes[k..<(k + max(1, length))] {
                    scalars.append(Unicode.Scalar(escapeBase + UInt32(byte))!)  // in U+10FF00...U+10FFFF
                }
            }
            k += max(1, length)
        }
        return String(scalars)
    }

    /// The bytes `path` stands for: the inverse of `string(_:)`.
    public static func bytes(_ path: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out.append(byte)
            } else {
                out.append(contentsOf: UTF8.encode(scalar)!)  // every scalar has a UTF-8 form
            }
        }
        return out
    }

    /// True when `path` holds no escaped byte: its bytes are valid UTF-8, and the String is exact.
    public static func isUTF8(_ path: String) -> Bool {
        !path.unicodeScalars.contains { $0.value >= escapeBase }
    }

    /// The length (1 to 4) of the well-formed UTF-8 sequence at `bytes[start]`, or 0 when the byte
    /// there does not start one (Unicode, table 3-7: no overlong forms, no surrogates, at most U+10FFFF).
    static func wellFormedLength(_ bytes: [UInt8], at start: Int) -> Int {
        let lead = bytes[start]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return 0
        }
        guard start + length <= bytes.count, second.contains(bytes[start + 1]) else { return 0 }
        for k in (start + 2)..<(start + length) where !(0x80...0xBF).contains(bytes[k]) { return 0 }
        return length
    }

    /// The scalar of one well-formed sequence.
    private static func decode(_ sequence: ArraySlice<UInt8>) -> Unicode.Scalar? {
        var iterator = sequence.makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) { return scalar }
        return nil
    }
}

extension String {
    /// The path for these bytes (`PathBytes.string`).
    public init<C: Collection>(pathBytes: C) where C.Element == UInt8 {
        self = PathBytes.string(pathBytes)
    }

    /// The path for a NUL-terminated C string from the system (readdir, realpath, mkstemp).
    public init(pathCString: UnsafePointer<CChar>) {
        self = PathBytes.string(UnsafeBufferPointer(start: pathCString, count: strlen(pathCString)).lazy.map {
            UInt8(bitPattern: $0)
        })
    }

    /// This path's bytes (`PathBytes.bytes`).
    public var pathBytes: [UInt8] { PathBytes.bytes(self) }

    /// This path's bytes, NUL-terminated, for a system call: `open(path.pathCString, O_RDONLY)`.
    /// Swift's own String-to-`char *` conversion would write the escaped bytes' scalars as UTF-8.
    public var pathCString: [CChar] { PathBytes.bytes(self).map { CChar(bitPattern: $0) } + [0] }
}
