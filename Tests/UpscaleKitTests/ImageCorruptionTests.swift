// Corrupt and hostile inputs: each is a thrown ImageIOError naming the file, never a crash,
// an exit() or a leftover temporary file.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import UpscaleKit

func noisyImage(channels: Int, height: Int, width: Int, seed: UInt64) -> Tensor {
    var random = SeededSamples(seed: seed)
    return Tensor(shape: [1, channels, height, width],
                  data: (0..<(channels * height * width)).map { _ in Float(random.next(below: 256)) / 255 })
}

/// CRC-32 (PNG chunk checksum, polynomial 0xEDB88320), bitwise.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A PNG whose IHDR declares `width`×`height` (valid CRC), followed by a tiny IDAT and IEND.
func pngDeclaring(width: UInt32, height: UInt32) throws -> [UInt8] {
    let tiny = try ImageCodec.encode(RasterImage(color: Tensor(zeros: [1, 3, 1, 1]), alpha: nil), format: .png)
    var bytes = tiny
    let be = { (v: UInt32) in [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    bytes.replaceSubrange(16..<20, with: be(width))
    bytes.replaceSubrange(20..<24, with: be(height))
    bytes.replaceSubrange(29..<33, with: be(crc32(Array(bytes[12..<29]))))  // CRC over "IHDR" + data
    return bytes
}

func expectDecodeThrows(_ bytes: [UInt8], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let image = try ImageCodec.decode(bytes: bytes, name: label)
        Issue.record("\(label): decoded a \(image.width)×\(image.height) image instead of throwing", sourceLocation: sourceLocation)
    } catch let error as ImageIOError {
        #expect(error.path == label, sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(label): unexpected error type \(error)", sourceLocation: sourceLocation)
    }
}

@Test func truncatedPNGThrowsAtEveryLength() throws {
    let bytes = try ImageCodec.encode(RasterImage(color: noisyImage(channels: 3, height: 6, width: 5, seed: 1),
                                                  alpha: nil), format: .png)
    for length in 0..<bytes.count { expectDecodeThrows(Array(bytes[0..<length]), "png[0..<\(length)]") }
}

@Test func truncatedJPEGThrowsAtEveryLength() throws {
    for progressive in [false, true] {
        var options = EncodeOptions()
        options.jpegProgressive = progressive
        let bytes = try ImageCodec.encode(RasterImage(color: noisyImage(channels: 3, height: 16, width: 16, seed: 2),
                                                      alpha: nil), format: .jpeg, options: options)
        for length in 0..<bytes.count { expectDecodeThrows(Array(bytes[0..<length]), "jpeg\(progressive ? "-p" : "")[0..<\(length)]") }
    }
}

@Test func everyFlippedBytePNGThrows() throws {
    // Without ancillary chunks every byte is covered by the signature or a CRC.
    let bytes = try ImageCodec.encode(RasterImage(color: noisyImage(channels: 1, height: 4, width: 4, seed: 3),
                                                  alpha: nil), format: .png)
    for at in 0..<bytes.count {
        var bad = bytes
        bad[at] ^= 0x5A
        expectDecodeThrows(bad, "png flip @\(at)")
    }
}

@Test func flippedJPEGHeaderBytesThrowAndDataFlipsNeverCrash() throws {
    let bytes = try ImageCodec.encode(RasterImage(color: noisyImage(channels: 3, height: 16, width: 16, seed: 4),
                                                  alpha: nil), format: .jpeg)
    let segments = JPEGBytes.segments(bytes)
    let sof = segments.first { $0.marker == 0xC0 }!.offset
    let sos = segments.first { $0.marker == 0xDA }!.offset
    // Header bytes whose corruption libjpeg must refuse: SOI, the SOF marker, sample precision,
    // component count, the SOS marker.
    for at in [0, 1, sof + 1, sof + 4, sof + 9, sos + 1] {
        var bad = bytes
        bad[at] ^= 0x5A
        expectDecodeThrows(bad, "jpeg flip @\(at)")
    }
    // Entropy-coded data has no checksum: a flip there may decode to wrong pixels, which is
    // fine, but it must either throw or give an image of the stored size.
    for at in stride(from: sos + 14, to: bytes.count, by: 3) {
        var bad = bytes
        bad[at] ^= 0x5A
        if let image = try? ImageCodec.decode(bytes: bad, name: "data flip") {
            #expect(image.width == 16 && image.height == 16)
        }
    }
}

@Test func garbageAfterPNGSignatureThrows() {
    var random = SeededSamples(seed: 5)
    let garbage = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<200).map { _ in UInt8(random.next(below: 256)) }
    expectDecodeThrows(garbage, "signature+garbage")
    expectDecodeThrows([0xFF, 0xD8, 0xFF] + (0..<200).map { _ in UInt8(random.next(below: 256)) }, "soi+garbage")
    expectDecodeThrows(Array("GIF89a not supported".utf8), "gif")
}

@Test func unusableFilesThrowNamingThePath() throws {
    let dir = ScratchDir("unusable")
    defer { dir.remove() }
    let empty = dir.file("empty.png")
    writeBytes([], to: empty)
    for (path, fragment) in [(empty, "empty"), (dir.path, "directory"), (dir.file("missing.png"), "No such file")] {
        #expect {
            _ = try ImageCodec.decode(path: path)
        } throws: { error in
            guard let error = error as? ImageIOError else { return false }
            return error.path == path && error.message.contains(fragment)
        }
        #expect(throws: ImageIOError.self) { _ = try ImageCodec.probe(path: path) }
    }
    expectDecodeThrows([], "no bytes")

    let locked = dir.file("locked.png")
    try ImageCodec.encode(RasterImage(color: Tensor(zeros: [1, 1, 2, 2]), alpha: nil), to: locked)
    chmod(locked, 0)
    if geteuid() == 0 {
        // root reads through mode 000, so there is nothing to refuse; the case is skipped.
        print("unusableFilesThrowNamingThePath: running as root, chmod 000 does not block reads; unreadable-file case skipped")
    } else {
        #expect(throws: ImageIOError.self) { _ = try ImageCodec.decode(path: locked) }
    }
}

@Test func hugeDeclaredSizesAreRefusedBeforeAllocation() throws {
    // Sides over 65535.
    #expect { _ = try ImageCodec.decode(bytes: pngDeclaring(width: 70000, height: 10), name: "wide.png") }
        throws: { ($0 as? ImageIOError)?.message.contains("65535") == true }
    // Each side fine, 40000² = 1.6 gigapixels over the default 1 Gpx budget: refused with the
    // budget in the message, before the 6.4 GB of pixels would be allocated.
    #expect { _ = try ImageCodec.decode(bytes: pngDeclaring(width: 40000, height: 40000), name: "big.png") }
        throws: { ($0 as? ImageIOError)?.message.contains("budget") == true }
    // A configurable budget.
    var small = DecodeOptions()
    small.maxPixels = 100
    #expect { _ = try ImageCodec.decode(bytes: pngDeclaring(width: 11, height: 10), name: "110.png", options: small) }
        throws: { ($0 as? ImageIOError)?.message.contains("budget") == true }

    // JPEG: patch the SOF dimensions of a real file to 60000×60000.
    var jpeg = try ImageCodec.encode(RasterImage(color: Tensor(zeros: [1, 3, 8, 8]), alpha: nil), format: .jpeg)
    let sof = JPEGBytes.segments(jpeg).first { $0.marker == 0xC0 }!.offset
    jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
    #expect { _ = try ImageCodec.decode(bytes: jpeg, name: "big.jpg") }
        throws: { ($0 as? ImageIOError)?.message.contains("budget") == true }
}

@Test func failedDecodesLeaveNoFilesBehind() throws {
    let dir = ScratchDir("nofiles")
    defer { dir.remove() }
    let good = try ImageCodec.encode(RasterImage(color: noisyImage(channels: 3, height: 4, width: 4, seed: 6), alpha: nil),
                                     format: .png)
    writeBytes(Array(good[0..<40]), to: dir.file("cut.png"))
    #expect(throws: ImageIOError.self) { _ = try ImageCodec.decode(path: dir.file("cut.png")) }
    #expect(dir.entries == ["cut.png"])
}
