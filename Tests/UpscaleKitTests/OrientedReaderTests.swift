// The streaming reader of EXIF-rotated JPEGs (issue 15, item 9): its bands, at any band height,
// are the reference `ExifOrientation.apply` of the file decoded as stored, bit for bit; it holds
// one byte per sample at most (none for orientation 2), and refuses over the memory budget.
import Foundation
import Testing
@testable import UpscaleKit

@Test(arguments: 2...8)
func orientedBandsMatchTheReferenceRotation(_ orientation: Int) throws {
    let photo = RasterImage(color: smoothImage(height: 13, width: 21), alpha: nil)
    let bytes = JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: orientation, bigEndian: false),
                                    into: try ImageCodec.encode(photo, format: .jpeg))
    var asStored = DecodeOptions()
    asStored.applyOrientation = false
    let reference = ExifOrientation.apply(orientation, to: try ImageCodec.decode(bytes: bytes, name: "s.jpg", options: asStored).color)
    let dir = ScratchDir("oriented")
    defer { dir.remove() }
    writeBytes(bytes, to: dir.file("o.jpg"))
    for bandRows in [1, 5, 64] {
        let reader = try ImageCodec.openStreamReader(path: dir.file("o.jpg"))
        #expect(reader.orientation == 1 && reader.width == reference.shape[3] && reader.height == reference.shape[2])
        #expect(reader.wholeImageBytes == (orientation == 2 ? 0 : 13 * 21 * 3))
        var rows: [Tensor] = []
        while let band = try reader.readBand(maxRows: bandRows) { rows.append(band.color) }
        let (h, w) = (reference.shape[2], reference.shape[3])
        for c in 0..<3 {
            let got = rows.flatMap { band in band.data[(c * band.shape[2] * w)..<((c + 1) * band.shape[2] * w)] }
            #expect(got == Array(reference.data[(c * h * w)..<((c + 1) * h * w)]),
                    "orientation \(orientation), bands of \(bandRows), channel \(c)")
        }
    }
}

@Test func rotatedJPEGOverTheBudgetIsRefusedBeforeDecoding() throws {
    let bytes = JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: 6, bigEndian: true),
                                    into: try ImageCodec.encode(RasterImage(color: smoothImage(height: 40, width: 30), alpha: nil),
                                                                format: .jpeg))
    var options = DecodeOptions()
    options.maxMemory = 40 * 30 * 3 - 1   // one byte short of the sample planes
    let dir = ScratchDir("oriented")
    defer { dir.remove() }
    writeBytes(bytes, to: dir.file("o.jpg"))
    #expect { _ = try ImageCodec.openStreamReader(path: dir.file("o.jpg"), options: options) } throws: {
        ($0 as? ImageIOError)?.kind == .overMemoryBudget && ($0 as? ImageIOError)?.path == dir.file("o.jpg")
    }
    options.maxMemory += 1
    #expect(try ImageCodec.openStreamReader(path: dir.file("o.jpg"), options: options).readBand(maxRows: 8) != nil)
}

@Test(arguments: [("1048576", 1 << 20), ("512K", 512 << 10), ("512M", 512 << 20), ("4G", 4 << 30), ("4g", 4 << 30),
                  ("4GB", 4 << 30), ("4GiB", 4 << 30), ("1T", 1 << 40), ("12", 12)])
func memorySizesParse(_ text: String, _ bytes: Int) {
    #expect(MemoryBudget.parse(text) == bytes, "\(text)")
}

@Test(arguments: ["", "0", "0M", "-1", "1.5G", "G", "4X", "M4", "99999999999999999999", "9999999999T", "4 G B", "B"])
func badMemorySizesDoNotParse(_ text: String) {
    #expect(MemoryBudget.parse(text) == nil, "\(text)")
}
