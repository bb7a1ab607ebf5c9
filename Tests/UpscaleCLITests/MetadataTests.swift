import Foundation
import Testing
import UpscaleKit

/// Metadata kept from input to output (issue 15, item 14), read back from the written bytes by the
/// walkers below (chunks and markers parsed here, not by the codec under test): EXIF with the
/// orientation reset after rotating, ICC, PNG text chunks, and the pixel density multiplied by
/// the scale (the print size is kept).
@Suite struct MetadataTests {
    // MARK: Fixtures and walkers

    /// EXIF TIFF bytes, big-endian: IFD0 with Make "Cam" and Orientation `orientation`.
    static func exifTIFF(orientation: Int) -> [UInt8] {
        [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 2,
         0x01, 0x0F, 0, 2, 0, 0, 0, 4, 0x43, 0x61, 0x6D, 0,          // Make, ASCII, 4: "Cam\0"
         0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(orientation), 0, 0,  // Orientation, SHORT, 1
         0, 0, 0, 0]
    }

    /// The orientation in EXIF TIFF bytes written as above (IFD0's second entry), and whether
    /// the Make entry is still "Cam".
    static func readExif(_ tiff: [UInt8]) -> (orientation: Int, make: Bool)? {
        guard tiff.count >= 34, tiff[0..<2] == [0x4D, 0x4D], tiff[22..<24] == [0x01, 0x12] else { return nil }
        return (Int(tiff[30]) << 8 | Int(tiff[31]), tiff[18..<22] == [0x43, 0x61, 0x6D, 0])
    }

    /// A 12×8 baseline JPEG, JFIF density `dpi` dots per inch, with an Exif APP1 after the APP0.
    static func jpeg(orientation: Int, dpi: Int) throws -> [UInt8] {
        let color = Tensor(shape: [1, 3, 8, 12], data: (0..<288).map { Float($0 % 7) / 7 })
        var bytes = try ImageCodec.encode(RasterImage(color: color, alpha: nil), format: .jpeg)
        precondition(bytes[2..<4] == [0xFF, 0xE0] && bytes[6..<11].elementsEqual(Array("JFIF".utf8) + [0]), "APP0 JFIF first")
        bytes.replaceSubrange(13..<18, with: [1, UInt8(dpi >> 8), UInt8(dpi & 0xFF), UInt8(dpi >> 8), UInt8(dpi & 0xFF)])
        let payload = Array("Exif".utf8) + [0, 0] + exifTIFF(orientation: orientation)
        let app1 = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        let afterAPP0 = 4 + (Int(bytes[4]) << 8 | Int(bytes[5]))
        return Array(bytes[0..<afterAPP0]) + app1 + Array(bytes[afterAPP0...])
    }

    /// JPEG segments from SOI up to SOS: (marker, payload).
    static func segments(_ jpeg: [UInt8]) -> [(marker: UInt8, payload: [UInt8])] {
        var found: [(UInt8, [UInt8])] = []
        var at = 2
        while at + 4 <= jpeg.count, jpeg[at] == 0xFF, jpeg[at + 1] != 0xDA {
            let length = Int(jpeg[at + 2]) << 8 | Int(jpeg[at + 3])
            found.append((jpeg[at + 1], Array(jpeg[(at + 4)..<min(jpeg.count, at + 2 + length)])))
            at += 2 + length
        }
        return found
    }

    /// The TIFF bytes of a JPEG's Exif APP1 (after "Exif\0\0"), or nil.
    static func exifOfJPEG(_ jpeg: [UInt8]) -> [UInt8]? {
        for segment in segments(jpeg) where segment.marker == 0xE1 && segment.payload.starts(with: Array("Exif".utf8) + [0, 0]) {
            return Array(segment.payload.dropFirst(6))
        }
        return nil
    }

    /// The JFIF density (unit, x, y) of a JPEG, from its APP0.
    static func jfifDensity(_ jpeg: [UInt8]) -> [Int]? {
        guard let app0 = segments(jpeg).first(where: { $0.marker == 0xE0 })?.payload, app0.count >= 12 else { return nil }
        return [Int(app0[7]), Int(app0[8]) << 8 | Int(app0[9]), Int(app0[10]) << 8 | Int(app0[11])]
    }

    /// PNG chunks: (type, data), in file order.
    static func chunks(_ png: [UInt8]) -> [(type: String, data: [UInt8])] {
        var found: [(String, [UInt8])] = []
        var at = 8
        while at + 12 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            guard at + 12 + length <= png.count else { break }
            found.append((String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self), Array(png[(at + 8)..<(at + 8 + length)])))
            at += 12 + length
        }
        return found
    }

    /// A minimal ICC profile libpng accepts: the 128-byte header (size, version 4.3, display class,
    /// RGB, XYZ, "acsp", D50), an empty tag table, then filler bytes.
    static func iccProfile(size: Int) -> [UInt8] {
        var bytes = (0..<size).map { UInt8($0 % 251) }
        func put(_ at: Int, _ value: [UInt8]) { bytes.replaceSubrange(at..<(at + value.count), with: value) }
        put(0, be32(size)); put(4, be32(0)); put(8, be32(0x0430_0000))
        put(12, Array("mntrRGB XYZ ".utf8)); put(24, [UInt8](repeating: 0, count: 12)); put(36, Array("acsp".utf8))
        put(40, [UInt8](repeating: 0, count: 28)); put(68, be32(0xF6D6) + be32(0x1_0000) + be32(0xD32D))
        put(80, [UInt8](repeating: 0, count: 52))   // creator, ID, reserved, tag count 0
        return bytes
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// `data` as a zlib stream of one stored block (valid zlib, no compression).
    static func storedZlib(_ data: [UInt8]) -> [UInt8] {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        let n = data.count
        return [0x78, 0x01, 1, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)] + data
            + be32(Int(b << 16 | a))
    }

    /// A TinyPNG 6×4 RGB image with text chunks, pHYs (2835 per metre: 72 dpi), eXIf and iCCP added after IHDR.
    static func pngWithMetadata(icc: [UInt8]) -> [UInt8] {
        let plain = [UInt8](TinyPNG.rgb(width: 6, height: 4, pixels: TinyPNG.pattern(width: 6, height: 4)))
        let ihdrEnd = 8 + 25
        var extra = TinyPNG.chunk("tEXt", Array("Title".utf8) + [0] + [0x43, 0x61, 0x66, 0xE9])    // "Café" in Latin-1
        extra += TinyPNG.chunk("zTXt", Array("Comment".utf8) + [0, 0] + storedZlib(Array("squeezed words".utf8)))
        extra += TinyPNG.chunk("iTXt", Array("Author".utf8) + [0, 0, 0] + Array("fr".utf8) + [0] + Array("Auteur".utf8) + [0]
                               + Array("Zoë 日本".utf8))
        extra += TinyPNG.chunk("pHYs", be32(2835) + be32(2835) + [1])
        extra += TinyPNG.chunk("eXIf", exifTIFF(orientation: 1))
        extra += TinyPNG.chunk("iCCP", Array("test profile".utf8) + [0, 0] + storedZlib(icc))
        return Array(plain[0..<ihdrEnd]) + extra + Array(plain[ihdrEnd...])
    }

    static func run(_ input: [UInt8], _ name: String, _ arguments: [String]) throws -> (CLIResult, String) {
        let root = try temporaryFolder()
        try TestModel.write(to: root + "/model.bin")
        try Data(input).write(to: URL(fileURLWithPath: root + "/" + name))
        return (try CLI.run([name, "-m", "model.bin"] + arguments, in: root), root)
    }

    static func output(_ root: String, _ name: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: root + "/" + name) ?? Data())
    }

    // MARK: Tests

    @Test func rotatedJPEGKeepsExifWithOrientationOneAndDoublesItsDPI() throws {
        let (result, root) = try Self.run(try Self.jpeg(orientation: 6, dpi: 300), "a.jpg", ["-o", "b.jpg"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.status == 0, "\(result.stderr)")
        let out = Self.output(root, "b.jpg")
        let exif = Self.exifOfJPEG(out).flatMap(Self.readExif)
        #expect(exif?.orientation == 1 && exif?.make == true, "\(Self.segments(out).map(\.marker))")
        #expect(Self.jfifDensity(out) == [1, 600, 600])
        #expect(try TestModel.decodeRGB8(root + "/b.jpg").width == 16)   // 8 rows turned into columns, ×2
    }

    @Test func noOrientKeepsTheOrientationTag() throws {
        let (result, root) = try Self.run(try Self.jpeg(orientation: 6, dpi: 300), "a.jpg", ["-o", "b.jpg", "--no-orient"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.exifOfJPEG(Self.output(root, "b.jpg")).flatMap(Self.readExif)?.orientation == 6)
    }

    @Test func jpegToPNGCarriesExifAndDensityPerMetre() throws {
        let (result, root) = try Self.run(try Self.jpeg(orientation: 8, dpi: 300), "a.jpg", ["-o", "b.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.status == 0, "\(result.stderr)")
        let chunks = Self.chunks(Self.output(root, "b.png"))
        let exif = chunks.first { $0.type == "eXIf" }?.data ?? []
        #expect(Self.readExif(exif)?.orientation == 1 && Self.readExif(exif)?.make == true, "\(exif)")
        let phys = chunks.first { $0.type == "pHYs" }?.data ?? []
        #expect(phys == Self.be32(23622) + Self.be32(23622) + [1])   // 600 dpi = 23622.05 per metre
    }

    /// Both PNG encoders: ours (IDAT chunks written by hand) and zlib's (`--png-level`, whose
    /// png_write_end must not repeat the chunks).
    @Test(arguments: [[String](), ["--png-level", "6"]])
    func pngKeepsTextICCExifAndDoublesItsDensity(encoder: [String]) throws {
        let icc = Self.iccProfile(size: 300)
        let (result, root) = try Self.run(Self.pngWithMetadata(icc: icc), "a.png", ["-o", "b.png"] + encoder)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.status == 0, "\(result.stderr)")
        let chunks = Self.chunks(Self.output(root, "b.png"))
        #expect(chunks.map(\.type).filter { ["tEXt", "zTXt", "iTXt", "pHYs", "eXIf", "iCCP"].contains($0) }.sorted()
                == ["eXIf", "iCCP", "iTXt", "pHYs", "tEXt", "zTXt"], "\(chunks.map(\.type))")
        let firstIDAT = try #require(chunks.firstIndex { $0.type == "IDAT" })
        let before = chunks[..<firstIDAT]
        #expect(before.first { $0.type == "tEXt" }?.data == Array("Title".utf8) + [0] + [0x43, 0x61, 0x66, 0xE9])
        #expect(before.first { $0.type == "zTXt" }?.data.starts(with: Array("Comment".utf8) + [0, 0]) == true)
        let itxt = before.first { $0.type == "iTXt" }?.data ?? []
        #expect(itxt.starts(with: Array("Author".utf8) + [0]) && itxt.suffix(Array("Zoë 日本".utf8).count).elementsEqual(Array("Zoë 日本".utf8)))
        #expect(before.first { $0.type == "pHYs" }?.data == Self.be32(5670) + Self.be32(5670) + [1])
        #expect(Self.readExif(before.first { $0.type == "eXIf" }?.data ?? [])?.orientation == 1)
        #expect(before.contains { $0.type == "iCCP" })
        // libpng inflates the zTXt and the profile:
        let metadata = try ImageCodec.decode(path: root + "/b.png").metadata
        #expect(metadata.text.first { $0.keyword == "Comment" }?.text == "squeezed words")
        #expect(metadata.text.first { $0.keyword == "Author" }?.language == "fr")
        #expect(metadata.iccProfile == icc)
    }

    /// libpng warns that astronaut.png's ICC profile is a "known incorrect sRGB profile" and writes
    /// it anyway: that note is in --json and --verbose, not on every plain run's stderr.
    @Test func libpngWarningsAreNotesOnlyInJSONAndVerbose() throws {
        let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../samples/astronaut.png").standardized.path
        let input = [UInt8](try Data(contentsOf: URL(fileURLWithPath: samples)))
        let (plain, root) = try Self.run(input, "a.png", ["-o", "b.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(plain.status == 0 && !plain.stderr.contains("note:"), "\(plain.stderr)")
        let verbose = try CLI.run(["a.png", "-m", "model.bin", "-o", "c.png", "--verbose"], in: root)
        #expect(verbose.status == 0 && verbose.stderr.contains("note: c.png: libpng: known incorrect sRGB profile"),
                "\(verbose.stderr)")
        let json = try CLI.run(["a.png", "-m", "model.bin", "-o", "d.png", "--json"], in: root)
        let report = String(decoding: json.stdout, as: UTF8.self)
        #expect(json.status == 0 && report.contains("known incorrect sRGB profile"), "\(report)")
    }

    @Test func pngToJPEGCarriesExifAndDensityInDPI() throws {
        let (result, root) = try Self.run(Self.pngWithMetadata(icc: Array(repeating: 1, count: 200)), "a.png", ["-o", "b.jpg"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(result.status == 0, "\(result.stderr)")
        let out = Self.output(root, "b.jpg")
        #expect(Self.jfifDensity(out) == [1, 144, 144])   // 5670 per metre = 144.02 dpi
        #expect(Self.exifOfJPEG(out).flatMap(Self.readExif)?.make == true)
        // Text chunks are not carried into JPEG (docs/cli.md): no segment holds the title's keyword.
        let title = Array("Title".utf8)
        let holdsTitle = Self.segments(out).contains { segment in
            let p = segment.payload
            return p.count >= title.count && (0...(p.count - title.count)).contains { Array(p[$0..<($0 + title.count)]) == title }
        }
        #expect(!holdsTitle)
    }
}
