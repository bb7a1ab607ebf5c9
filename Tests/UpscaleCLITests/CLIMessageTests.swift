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

/// Issue 24, items 10–12: model files of other kinds, CRLF `.param` files, and the listed messages.
@Suite struct CLIMessageIssue24Tests {
    typealias Workspace = CLIRunTests.Workspace

    static func errorLines(_ result: CLIResult) -> [Substring] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }
    }

    /// Item 10: ncnn reads a `.param` saved with CRLF line ends, and so does the import; the
    /// weights file written is byte for byte the one the LF file gives.
    @Test func aParamWithCRLFLineEndsImportsAsTheLFOne() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let param = try String(contentsOfFile: ImportCLITests.fixtures + "/vgg7_x1_f32.param", encoding: .utf8)
        let bin = try #require(FileManager.default.contents(atPath: ImportCLITests.fixtures + "/vgg7_x1_f32.bin"))
        let crlf = param.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(crlf != param)
        try ws.write("lf/m.param", Data(param.utf8))
        try ws.write("crlf/m.param", Data(crlf.utf8))
        try ws.write("lf/m.bin", bin)
        try ws.write("crlf/m.bin", bin)
        for folder in ["lf", "crlf"] {
            let result = try CLI.run(["import", folder + "/m.param", "-o", folder + "/out.bin"], in: ws.root)
            #expect(result.status == 0, "\(folder): \(result.stderr)")
        }
        #expect(ws.data("crlf/out.bin") != nil && ws.data("crlf/out.bin") == ws.data("lf/out.bin"))
    }

    /// Item 11: an ncnn `.bin` (float32 and float16), a `.param`, a `.pth` or an image given as the
    /// model is named for what it is, by `run` and by `info`, with `upscale import` where it applies.
    @Test func aModelPathOfAnotherKindIsNamedForWhatItIs() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        let fixtures = ImportCLITests.fixtures
        let jpeg = try ImageCodec.encode(RasterImage(color: Tensor(shape: [1, 3, 8, 8], data: [Float](repeating: 0.5, count: 192)),
                                                     alpha: nil), format: .jpeg)
        try ws.write("photo.jpg", Data(jpeg))
        let cases: [(path: String, says: String, importHint: Bool)] = [
            (fixtures + "/vgg7_x1_f32.bin", "looks like the weights of an ncnn model (its .bin)", true),
            (fixtures + "/srvgg_x4_f16.bin", "looks like the weights of an ncnn model (its .bin)", true),
            (fixtures + "/vgg7_x1_f32.param", "is an ncnn .param file", true),
            (fixtures + "/vgg7_x1.pth", "is a PyTorch .pth file", true),
            (ws.root + "/a.png", "is a PNG image, not a model weights file", false),
            (ws.root + "/photo.jpg", "is a JPEG image, not a model weights file", false),
        ]
        for c in cases {
            for arguments in [["a.png", "-m", c.path, "-o", "out.png"], ["info", c.path]] {
                let result = try CLI.run(arguments, in: ws.root)
                #expect(result.status == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("\(c.path) \(c.says)"), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("upscale import") == c.importHint, "\(arguments): \(result.stderr)")
                #expect(!result.stderr.contains("header length"), "\(arguments): \(result.stderr)")
            }
        }
        #expect(!ws.exists("out.png"))
    }

    /// Item 12: `-o ""`, an output without an extension, `--bogus` alone and a file name that
    /// starts with a dash are usage errors (64) that say what is wrong.
    @Test func usageMistakesGetTheirOwnMessage() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        let empty = try ws.run(["a.png", "-o", ""])
        #expect(empty.status == 64 && empty.stderr.contains("-o is empty"), "\(empty.stderr)")
        #expect(ws.listing() == ["a.png", "model.bin"], "\(ws.listing())")

        try ws.addPNG("photo", 4, 4)  // a PNG named without an extension
        let noExtension = try ws.run(["photo", "-o", "outnoext"])
        #expect(noExtension.status == 64 && noExtension.stderr.contains("outnoext: has no extension"), "\(noExtension.stderr)")
        #expect(!noExtension.stderr.contains("'.'"), "\(noExtension.stderr)")

        let bogus = try CLI.run(["--bogus"], in: ws.root)
        #expect(bogus.status == 64 && bogus.stderr.contains("Unknown option '--bogus'"), "\(bogus.stderr)")
        #expect(!bogus.stderr.contains("at least one input"), "\(bogus.stderr)")

        try ws.addPNG("-photo.png", 4, 4)
        let dashed = try ws.run(["-photo.png"])
        #expect(dashed.status == 64 && dashed.stdout.isEmpty, "\(dashed.stderr)")
        #expect(dashed.stderr.contains("'-photo.png' starts with a dash") && dashed.stderr.contains("./-photo.png"),
                "\(dashed.stderr)")
        let dotted = try ws.run(["./-photo.png", "-o", "dash.png"])
        #expect(dotted.status == 0 && ws.pngSize("dash.png").map { [$0.width, $0.height] } == [8, 8], "\(dotted.stderr)")
        let separated = try CLI.run(["-m", ws.model, "-o", "dash2.png", "--", "-photo.png"], in: ws.root)
        #expect(separated.status == 0 && ws.exists("dash2.png"), "\(separated.stderr)")
    }

    /// Item 12: a hint shared by every refused output of a run is given once; an error about a
    /// folder input names the folder, not the first file in it.
    @Test func oneHintPerRunAndFolderErrorsNameTheFolder() throws {
        var images: [String: (Int, Int)] = [:]
        for k in 0..<12 { images["big/\(k).png"] = (4, 4) }
        let ws = try Workspace(images)
        defer { ws.remove() }
        let same = try ws.run(["big", "-o", "big"])
        #expect(same.status == 1)
        #expect(Self.errorLines(same).count == 12, "\(same.stderr)")
        #expect(same.stderr.components(separatedBy: "is the input itself.").count - 1 == 12, "\(same.stderr)")
        #expect(same.stderr.components(separatedBy: "Pass -o to write somewhere else.").count - 1 == 1, "\(same.stderr)")

        let noOutput = try ws.run(["big"])
        #expect(noOutput.status == 64, "\(noOutput.stderr)")
        #expect(noOutput.stderr.contains("error: big: folder inputs need an output folder"), "\(noOutput.stderr)")
        #expect(!noOutput.stderr.contains("big/0.png"), "\(noOutput.stderr)")
    }

    /// Item 12: the system's reason for an input that cannot be opened is not followed by advice
    /// about incomplete files. (A socket: opening it fails with ENXIO, as root too; "Permission
    /// denied" and "Too many open files" take the same path.)
    @Test func anInputThatCannotBeOpenedIsNotCalledIncomplete() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = ws.root + "/sock.png"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "path too long for a socket: \(path)")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
        let result = try ws.run(["sock.png", "-o", "out.png"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("sock.png: cannot open: No such device or address."), "\(result.stderr)")
        #expect(!result.stderr.contains("complete PNG or JPEG"), "\(result.stderr)")
    }

    /// Item 12: an EXIF block too large for a JPEG APP1 marker is left out with a note on stderr,
    /// as the docs say, not only in the --json report.
    @Test func exifTooLargeForJPEGIsNotedOnStderr() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let png = [UInt8](TinyPNG.rgb(width: 4, height: 4, pixels: TinyPNG.pattern(width: 4, height: 4)))
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 0] + [UInt8](repeating: 0, count: 70000)
        try ws.write("exif.png", Data(png[0..<33] + TinyPNG.chunk("eXIf", tiff) + png[33...]))  // after IHDR
        let result = try ws.run(["exif.png", "-o", "out.jpg"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: out.jpg: EXIF of 70016 bytes left out"), "\(result.stderr)")
        let quiet = try ws.run(["exif.png", "-o", "quiet.jpg", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }

    /// Item 12: `eval` on a ×1 model, whose bicubic baseline is the original itself (infinite
    /// PSNR): the means are of the finite values and the gain is n/a, never inf or -inf; a
    /// missing input is an input that failed (exit 1, as in `run`), named, with no usage text.
    @Test func evalMeansLeaveInfinitePSNROutAndMissingInputsFailAsInRun() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = folder + "/vgg7.bin"
        let imported = try CLI.run(["import", ImportCLITests.fixtures + "/vgg7_x1.pth", "--arch", "vgg7", "-o", model])
        #expect(imported.status == 0, "\(imported.stderr)")
        let table = try CLI.run(["eval", "-m", model, EvalTests.samples + "/astronaut.png"])
        #expect(table.status == 0, "\(table.stderr)")
        let mean = try #require(table.stdoutText.split(separator: "\n").first { $0.hasPrefix("mean") })
        #expect(!mean.contains("inf") && mean.contains("n/a"), "\(table.stdoutText)")
        #expect(table.stdoutText.contains("1 of 1 image with an infinite PSNR"), "\(table.stdoutText)")

        let missing = try CLI.run(["eval", "-m", "x2", folder + "/nothing-here"])
        #expect(missing.status == 1 && missing.stderr.contains("nothing-here: no such file or folder"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("<subcommand>"), "\(missing.stderr)")
    }
}
