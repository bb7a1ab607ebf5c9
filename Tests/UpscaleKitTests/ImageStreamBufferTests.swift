import Foundation
import Testing
@testable import UpscaleKit

/// Reading one image from a stream through its end and no further (issue 24, item 3). The stream
/// is a pipe whose writer stays open, read without blocking: a reader that wanted one byte past
/// the image would get EAGAIN and fail, where on stdin it would wait forever or read a second
/// image, or zeros, into memory.
@Suite struct ImageStreamBufferTests {
    /// The bytes `readImage` takes from a pipe holding `image` and then `after`, writer left open.
    /// `ended`: the writer is closed instead (the stream ends after `after`).
    static func read(_ image: [UInt8], after: [UInt8] = [], limit: Int = 1 << 30, ended: Bool = false) throws -> [UInt8] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); if !ended { close(fds[1]) } }
        let (setPipeSize, getPipeSize): (Int32, Int32) = (1031, 1032)  // F_SETPIPE_SZ, F_GETPIPE_SZ (_GNU_SOURCE)
        _ = fcntl(fds[1], setPipeSize, 1 << 20)
        let stream = image + after
        #expect(stream.count <= Int(fcntl(fds[1], getPipeSize)), "the test's stream must fit the pipe")
        #expect(stream.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) } == stream.count)
        if ended { close(fds[1]) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let bytes = try ImageBytes.readImage(descriptor: fds[0], name: "stdin", limit: limit)
        return Array(UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
    }

    static func image(width: Int = 40, height: Int = 30) -> RasterImage {
        var random = SeededRandom(seed: 3)
        return RasterImage(color: Tensor(shape: [1, 3, height, width], data: random.floats(3 * width * height, 0...1)),
                           alpha: nil)
    }

    static let trailing: [UInt8] = Array(repeating: 0, count: 5000) + [0xFF, 0xD9, 0x49, 0x45, 0x4E, 0x44]

    @Test func png() throws {
        let png = try ImageCodec.encode(Self.image(), format: .png)
        #expect(try Self.read(png, after: Self.trailing) == png)
        #expect(try Self.read(png + png) == png)  // the second image is left in the stream
    }

    /// Baseline and progressive (several scans, tables between them), and entropy-coded data
    /// with its stuffed 0xFF 0x00 bytes.
    @Test(arguments: [false, true])
    func jpeg(progressive: Bool) throws {
        var options = EncodeOptions()
        options.jpegProgressive = progressive
        let jpeg = try ImageCodec.encode(Self.image(width: 123, height: 77), format: .jpeg, options: options)
        let scans = (0..<(jpeg.count - 1)).filter { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA }.count
        #expect(progressive ? scans > 1 : scans == 1)
        #expect(try Self.read(jpeg, after: Self.trailing) == jpeg)
    }

    /// Segments are skipped by their length, whatever they hold (an EXIF thumbnail's own SOI and
    /// EOI); fill bytes before a marker and bytes between markers that are not one are passed over.
    @Test func jpegSegmentsAndFill() throws {
        let jpeg = try ImageCodec.encode(Self.image(), format: .jpeg)
        let thumbnail: [UInt8] = Array("Exif".utf8) + [0, 0, 0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 0x00, 0x02]
        let app1 = [0xFF, 0xE1, 0, UInt8(thumbnail.count + 2)] + thumbnail
        let edited = Array(jpeg[0..<2]) + app1 + [0x12, 0x34, 0xFF, 0x00, 0xFF, 0xFF, 0xFF] + Array(jpeg[2...])
        #expect(try Self.read(edited, after: Self.trailing) == edited)
    }

    /// Where the structure breaks, reading stops there and the decoder is left to say why: the
    /// zeros after a PNG signature (a chunk type that is not letters), data that is neither format.
    @Test func brokenStructureStops() throws {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        #expect(try Self.read(signature, after: Array(repeating: 0, count: 100_000)).count <= signature.count + ImageStreamBuffer.readAhead)
        #expect(try Self.read(Array("GIF89a..".utf8), after: Array(repeating: 7, count: 100_000)) == Array("GIF89a..".utf8))
        #expect(try Self.read([0xFF, 0xD8], ended: true) == [0xFF, 0xD8])  // shorter than a signature: all of it
        let png = try ImageCodec.encode(Self.image(), format: .png)
        #expect(try Self.read(Array(png.dropLast(5)), ended: true) == Array(png.dropLast(5)))  // truncated: all of it
    }

    /// An image over the limit is refused as over the memory budget, naming the stream.
    @Test func overTheLimit() throws {
        let png = try ImageCodec.encode(Self.image(width: 200, height: 100), format: .png)
        #expect(try Self.read(png, limit: png.count) == png)
        #expect {
            _ = try Self.read(png, limit: png.count - 1)
        } throws: { error in
            (error as? ImageIOError)?.kind == .overMemoryBudget && (error as? ImageIOError)?.path == "stdin"
        }
    }
}
