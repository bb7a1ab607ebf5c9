// The streaming reader of EXIF-rotated JPEGs (issue 15, item 9): its bands, at any band height
// and in groups of any size (a budget too small for the whole image makes it read the file once
// per group), are the reference `ExifOrientation.apply` of the file decoded as stored, bit for
// bit; orientation 2 keeps nothing, 3–8 one byte per sample of a group; a budget too small for
// one row is refused before anything is allocated.
import Foundation
import Testing
@testable import UpscaleKit

/// A 21×13 JPEG (stored) with an EXIF orientation, and the reference: decoded as stored, then turned.
func rotatedJPEG(_ orientation: Int, in dir: ScratchDir) throws -> (path: String, reference: Tensor) {
    let photo = RasterImage(color: smoothImage(height: 13, width: 21), alpha: nil)
    let bytes = JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: orientation, bigEndian: false),
                                    into: try ImageCodec.encode(photo, format: .jpeg))
    var asStored = DecodeOptions()
    asStored.applyOrientation = false
    let reference = ExifOrientation.apply(orientation, to: try ImageCodec.decode(bytes: bytes, name: "s.jpg", options: asStored).color)
    writeBytes(bytes, to: dir.file("o\(orientation).jpg"))
    return (dir.file("o\(orientation).jpg"), reference)
}

// budget: nil the default (one group); else bytes for groups of 3 displayed rows (a quarter of
// the budget each) or of 1.
@Test(arguments: 2...8, [nil, 3, 1])
func orientedBandsMatchTheReferenceRotation(_ orientation: Int, groupRows: Int?) throws {
    let dir = ScratchDir("oriented")
    defer { dir.remove() }
    let (path, reference) = try rotatedJPEG(orientation, in: dir)
    let (h, w) = (reference.shape[2], reference.shape[3])   // displayed
    var options = DecodeOptions()
    if let groupRows { options.maxMemory = 4 * groupRows * 3 * w }
    for bandRows in [1, 5, 64] {
        let reader = try ImageCodec.openStreamReader(path: path, options: options)
        #expect(reader.orientation == 1 && reader.width == w && reader.height == h)
        #expect(reader.wholeImageBytes == (orientation == 2 ? 0 : 3 * w * (groupRows ?? h)), "orientation \(orientation)")
        var rows: [Tensor] = []
        while let band = try reader.readBand(maxRows: bandRows) { rows.append(band.color) }
        #expect(rows.reduce(0) { $0 + $1.shape[2] } == h)
        for c in 0..<3 {
            let got = rows.flatMap { band in band.data[(c * band.shape[2] * w)..<((c + 1) * band.shape[2] * w)] }
            #expect(got == Array(reference.data[(c * h * w)..<((c + 1) * h * w)]),
                    "orientation \(orientation), groups of \(groupRows ?? h), bands of \(bandRows), channel \(c)")
        }
    }
}

@Test func rotatedJPEGWithNoRoomForOneRowIsRefused() throws {
    let dir = ScratchDir("oriented")
    defer { dir.remove() }
    let (path, reference) = try rotatedJPEG(6, in: dir)
    var options = DecodeOptions()
    options.maxMemory = 3 * reference.shape[3] - 1   // one byte short of a displayed row's samples
    #expect { _ = try ImageCodec.openStreamReader(path: path, options: options) } throws: {
        ($0 as? ImageIOError)?.kind == .overMemoryBudget && ($0 as? ImageIOError)?.path == path
    }
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
