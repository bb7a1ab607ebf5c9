import Foundation
import Testing
import UpscaleKit
import UpscaleModels

/// The wording of messages: each says what is wrong with which file, and only what is true.
@Suite struct CLIMessageTests {
    typealias Workspace = CLIRunTests.Workspace

    /// A JPEG header declaring 4 components (CMYK, no Adobe marker): SOI, DQT, SOF0, SOS, EOI.
    static let cmykJPEG: Data = {
        var bytes: [UInt8] = [0xFF, 0xD8]
        bytes += [0xFF, 0xDB, 0x00, 0x43, 0x00] + [UInt8](repeating: 1, count: 64)
        bytes += [0xFF, 0xC0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04]
        for id in 1...4 { bytes += [UInt8(id), 0x11, 0x00] }
        bytes += [0xFF, 0xDA, 0x00, 0x0E, 0x04]
        for id in 1...4 { bytes += [UInt8(id), 0x00] }
        bytes += [0x00, 0x3F, 0x00] + [UInt8](repeating: 0, count: 16) + [0xFF, 0xD9]
        return Data(bytes)
    }()

    @Test func aCMYKFileIsNotCalledIncompleteAndOneInputHasNoOthers() throws {
        let ws = try Workspace(["b.png": (4, 4)])
        defer { ws.remove() }
        try ws.write("cmyk.jpg", Self.cmykJPEG)
        try ws.write("broken.png", Data("not a png".utf8))
        let cmyk = try ws.run(["cmyk.jpg"])
        #expect(cmyk.status == 1)
        #expect(cmyk.stderr.contains("cmyk.jpg: CMYK JPEG is not supported; convert it to RGB first."), "\(cmyk.stderr)")
        #expect(!cmyk.stderr.contains("complete PNG, JPEG or WebP"), "\(cmyk.stderr)")
        #expect(!cmyk.stderr.contains("other inputs"), "\(cmyk.stderr)")

        let alone = try ws.run(["broken.png"])
        #expect(alone.status == 1 && alone.stderr.contains("complete PNG, JPEG or WebP"), "\(alone.stderr)")
        #expect(!alone.stderr.contains("other inputs"), "\(alone.stderr)")
        let withOthers = try ws.run(["broken.png", "b.png", "-o", "out"])
        #expect(withOthers.status == 1 && withOthers.stderr.contains("The other inputs were still processed."),
                "\(withOthers.stderr)")
    }

    @Test func aModelErrorEndsItsSentenceBeforeTheHint() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        try ws.write("bad.bin", Data("this is not a weights file".utf8))
        let result = try CLI.run(["a.png", "-m", "bad.bin"], in: ws.root)
        #expect(result.status == 1)
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains("Run `upscale info") })
        let before = try #require(line.range(of: " Run `upscale info")).lowerBound
        #expect(line[line.index(before: before)] == ".", "\(line)")
    }

    @Test func infoNamesTheSameProblemOnEveryRun() throws {
        // A truncated built-in model: every tensor after the cut is out of range, so the tensor
        // named depends on the order they are checked in.
        let ws = try Workspace()
        defer { ws.remove() }
        let bytes = try #require(BuiltinModels.bytes(named: "x2"))
        try ws.write("cut.bin", Data(bytes.prefix(bytes.count / 3)))
        let messages = try (0..<4).map { _ in try CLI.run(["info", "cut.bin"], in: ws.root) }
        #expect(messages.allSatisfy { $0.status == 1 })
        #expect(Set(messages.map(\.stderr)).count == 1, "\(messages.map(\.stderr))")
    }

    @Test func verboseNotesHiddenFilesAndAQualityPNGIgnores() throws {
        let ws = try Workspace(["in/a.png": (4, 4), "in/.hidden.png": (4, 4)])
        defer { ws.remove() }
        let result = try ws.run(["in", "-o", "out", "-q", "80", "--verbose", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("in/.hidden.png: skipped, hidden"), "\(result.stderr)")
        #expect(result.stderr.contains("-q 80 is the JPEG quality; PNG outputs are lossless and ignore it"), "\(result.stderr)")
        let jpeg = try ws.run(["in", "-o", "out", "-f", "jpg", "-q", "80", "--verbose", "--dry-run"])
        #expect(!jpeg.stderr.contains("ignore it"), "\(jpeg.stderr)")
    }

    @Test func dryRunRefusesWhatIsNotPNGOrJPEG() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        try ws.write("anim.gif", Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8))
        let result = try ws.run(["a.png", "anim.gif", "-o", "out", "--dry-run"])
        #expect(result.status == 1)
        #expect(result.stdoutText == "a.png\tout/a.png\n")
        #expect(result.stderr.contains("anim.gif: not a PNG, JPEG or WebP file"), "\(result.stderr)")
    }

    @Test func theReadmeOptionsTableListsEveryOption() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = readme.components(separatedBy: "### Options").dropFirst().first ?? ""
        let table = section.split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
            .joined(separator: "\n")
        let help = try CLI.run(["run", "--help"]).stdoutText
        let options = Set(help.split(whereSeparator: { " ,\n".contains($0) }).filter {
            $0.hasPrefix("--") && $0.count > 2 && !["--help", "--version"].contains($0)
        })
        #expect(!options.isEmpty)
        for option in options.sorted() {
            #expect(table.contains("`\(option)") || table.contains(", \(option)"), "README options table lacks \(option)")
        }
    }
}
