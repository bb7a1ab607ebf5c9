// Helpers for the image I/O tests: scratch folders, a PNG fixture writer that drives libpng
// directly (palette, low bit depths, tRNS, Adam7: variants our encoder never writes), byte
// surgery on JPEG files (EXIF APP1 insertion, SOF lookup) and a seeded sample generator.
import CPNG
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import UpscaleKit

/// A fresh empty folder under the system temp dir; removed by `remove()`.
struct ScratchDir {
    let path: String

    init(_ label: String = "imageio") {
        path = NSTemporaryDirectory() + "upscale-\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Every entry in the folder, hidden files included (temporary files start with ".").
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A small seeded generator (64-bit LCG, high bits) so fixtures are the same on every run.
struct SeededSamples {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next(below bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
}

/// A PNG written by libpng itself from packed rows, for decode tests with known sample values.
struct PNGFixture {
    var width: Int
    var height: Int
    var bitDepth: Int
    var colorType: Int32
    var interlaced = false
    var palette: [png_color] = []
    var transAlpha: [UInt8] = []          // palette tRNS
    var transColor: png_color_16? = nil   // gray/RGB tRNS
    var rows: [[UInt8]] = []              // (H) rows of packed samples, MSB first, 16-bit big-endian

    /// Packs per-pixel samples `(H, W, channels)` into PNG rows at `bitDepth`.
    static func pack(_ samples: [Int], width: Int, height: Int, channels: Int, bitDepth: Int) -> [[UInt8]] {
        (0..<height).map { y in
            let rowSamples = Array(samples[(y * width * channels)..<((y + 1) * width * channels)])
            switch bitDepth {
            case 16: return rowSamples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            case 8: return rowSamples.map { UInt8($0) }
            default:
                let perByte = 8 / bitDepth
                var row = [UInt8](repeating: 0, count: (rowSamples.count + perByte - 1) / perByte)
                for (i, s) in rowSamples.enumerated() {
                    row[i / perByte] |= UInt8(s << (8 - bitDepth * (i % perByte + 1)))
                }
                return row
            }
        }
    }

    func write(to path: String) throws {
        guard let file = fopen(path, "wb") else { throw ImageIOError(path: path, message: "fixture: cannot open") }
        defer { fclose(file) }
        guard let writer = cpng_writer_create(file) else { throw ImageIOError(path: path, message: "fixture: no writer") }
        defer { cpng_writer_destroy(writer) }
        var params = cpng_write_params()
        params.width = png_uint_32(width)
        params.height = png_uint_32(height)
        params.bit_depth = Int32(bitDepth)
        params.color_type = colorType
        params.compression_level = 6
        params.srgb_intent = -1
        params.interlaced = interlaced ? 1 : 0
        var ok = false
        var copy = rows
        palette.withUnsafeBufferPointer { paletteBytes in
            transAlpha.withUnsafeBufferPointer { alphaBytes in
                var color = transColor ?? png_color_16()
                withUnsafePointer(to: &color) { colorPointer in
                    params.palette = palette.isEmpty ? nil : paletteBytes.baseAddress
                    params.num_palette = Int32(palette.count)
                    params.trans_alpha = transAlpha.isEmpty ? nil : alphaBytes.baseAddress
                    params.num_trans = Int32(transAlpha.count)
                    params.trans_color = transColor == nil ? nil : colorPointer
                    guard cpng_write_header(writer, &params) != 0 else { return }
                    let count = copy.count
                    copy.withUnsafeMutableBufferPointer { rowArrays in
                        var pointers: [UnsafeMutablePointer<UInt8>?] = []
                        func collect(_ i: Int) {
                            if i == count {
                                // libpng's own whole-image write (every Adam7 pass). Without a
                                // setjmp shim: these fixtures are valid, and a libpng error here
                                // would abort the test run, which is what a broken fixture deserves.
                                png_write_image(writer.pointee.png, &pointers)
                                ok = cpng_write_end(writer) != 0
                                return
                            }
                            rowArrays[i].withUnsafeMutableBufferPointer { row in
                                pointers.append(row.baseAddress)
                                collect(i + 1)
                            }
                        }
                        collect(0)
                    }
                }
            }
        }
        guard ok else { throw ImageIOError(path: path, message: "fixture: libpng failed: \(cText(&writer.pointee.error.message, orElse: "?"))") }
    }
}

enum JPEGBytes {
    /// An APP1 Exif segment holding IFD0 with one Orientation entry, in either byte order.
    static func exifSegment(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        var tiff: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        tiff += u16(42) + u32(8)                    // IFD0 right after the 8-byte header
        tiff += u16(2)                              // two entries
        tiff += u16(0x010F) + u16(2) + u32(4) + Array("Cam\0".utf8)  // Make (ASCII, inline)
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
        tiff += u32(0)                              // no next IFD
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// `jpeg` with `segment` inserted right after SOI.
    static func inserting(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }

    /// Offsets of every marker `0xFF code` with a length field, walking segments from SOI up to SOS.
    static func segments(_ jpeg: [UInt8]) -> [(marker: UInt8, offset: Int)] {
        var found: [(UInt8, Int)] = []
        var at = 2
        while at + 4 <= jpeg.count, jpeg[at] == 0xFF {
            let marker = jpeg[at + 1]
            found.append((marker, at))
            if marker == 0xDA { break }
            at += 2 + (Int(jpeg[at + 2]) << 8 | Int(jpeg[at + 3]))
        }
        return found
    }
}

/// The (H, W, C) samples of a (1, C, H, W) tensor at one pixel.
func pixel(_ t: Tensor, _ y: Int, _ x: Int) -> [Float] {
    let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
    return (0..<c).map { t.data[$0 * h * w + y * w + x] }
}

func readBytes(_ path: String) -> [UInt8] {
    (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}
