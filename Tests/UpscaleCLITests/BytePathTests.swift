import Foundation
import Testing
import UpscaleKit
#if canImport(Glibc)
import Glibc
#endif

/// Paths are bytes (issue 24, item 2), and what came from a file or an argument is escaped on the
/// terminal (item 8). The files are made and listed here with raw POSIX calls on byte strings,
/// independently of the tool's own path mapping; arguments reach the binary as those bytes.
@Suite struct BytePathTests {
    /// A path of raw bytes.
    struct RawPath: Hashable, CustomStringConvertible {
        var bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        init(_ text: String) { bytes = Array(text.utf8) }
        static func + (a: RawPath, b: RawPath) -> RawPath { RawPath(a.bytes + Array("/".utf8) + b.bytes) }
        var cString: [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }
        /// The argument that stands for these bytes (Spawned passes it on as exactly them).
        var argument: String { String(pathBytes: bytes) }
        var description: String { bytes.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined() }
    }

    static func makeFolder(_ path: RawPath) throws {
        try #require(mkdir(path.cString, 0o755) == 0, "mkdir \(path): \(errno)")
    }

    static func writeFile(_ path: RawPath, _ data: Data) throws {
        let fd = open(path.cString, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(fd >= 0, "create \(path): \(errno)")
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == data.count)
    }

    /// Every file below `folder` as its path relative to it, in bytes (readdir on raw bytes).
    static func listTree(_ folder: RawPath) -> Set<[UInt8]> {
        guard let dir = opendir(folder.cString) else { return [] }
        defer { closedir(dir) }
        var found = Set<[UInt8]>()
        while let entry = readdir(dir) {
            let name: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            if entry.pointee.d_type == UInt8(DT_DIR) {
                for below in listTree(folder + RawPath(name)) { found.insert(name + [0x2F] + below) }
            } else {
                found.insert(name)
            }
        }
        return found
    }

    static let image = TinyPNG.rgb(width: 6, height: 4, pixels: TinyPNG.pattern(width: 6, height: 4))

    /// The folder tree of the repro, plus names with invalid lead bytes, a truncated
    /// sequence, and UTF-8 for the private-use scalars the tool's own mapping escapes.
    static let treeNames: [[UInt8]] = [
        Array("Fotos_".utf8) + [0xE9, 0x74, 0xE9] + Array("/p.png".utf8),
        Array("caf".utf8) + [0xE9] + Array(".png".utf8),
        [0xFF, 0xFE] + Array(".png".utf8),
        Array("sub".utf8) + [0xC3] + Array("/x.png".utf8),
        [0xF4, 0x8F, 0xBF, 0xA9] + Array(".png".utf8),
        Array("ok.png".utf8),
    ]

    static func makeTree(in root: RawPath) throws -> RawPath {
        let input = root + RawPath("d")
        try makeFolder(input)
        for name in treeNames {
            let parts = name.split(separator: 0x2F).map(Array.init)
            var path = input
            for folder in parts.dropLast() {
                path = path + RawPath(folder)
                if opendir(path.cString).map({ closedir($0) }) == nil { try makeFolder(path) }
            }
            try writeFile(path + RawPath(parts.last!), image)
        }
        return input
    }

    /// The input's pixels repeated in 2×2 blocks: what TestModel's nearest-neighbour x2 gives.
    static func nearestX2(_ pixels: [UInt8], width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 4 * pixels.count)
        for y in 0..<(2 * height) { for x in 0..<(2 * width) { for c in 0..<3 {
            out[(y * 2 * width + x) * 3 + c] = pixels[((y / 2) * width + x / 2) * 3 + c]
        } } }
        return out
    }

    /// `upscale d -r -o out --json`: every file is walked and mirrored into the output folder under
    /// the same bytes, with the right pixels; the JSON report is valid, shows the bytes that are not
    /// UTF-8 as `\xNN` text and gives the exact bytes in hex.
    @Test func walkMirrorsNamesThatAreNotUTF8() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = RawPath(root)
        let input = try Self.makeTree(in: base)
        try TestModel.write(to: root + "/model.bin")
        let result = try Spawned.run([input.argument, "-r", "-o", root + "/out", "-m", root + "/model.bin", "--json"], in: root)
        #expect(result.status == 0 && result.signal == nil, "\(result.stderr)")
        #expect(Self.listTree(base + RawPath("out")) == Set(Self.treeNames))
        let expected = Self.nearestX2(TinyPNG.pattern(width: 6, height: 4), width: 6, height: 4)
        for name in Self.treeNames {
            let written = try TestModel.decodeRGB8((base + RawPath("out") + RawPath(name)).argument)
            #expect(written.width == 12 && written.height == 8 && written.pixels == expected, "\(RawPath(name))")
        }

        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let files = try #require(json["files"] as? [[String: Any]])
        #expect(files.count == Self.treeNames.count)
        var inputs = Set<[UInt8]>()
        for file in files {
            #expect(file["status"] as? String == "done")
            let text = try #require(file["input"] as? String)
            let exact: [UInt8]
            if let hex = file["inputHex"] as? String {
                exact = stride(from: 0, to: hex.count, by: 2).map {
                    UInt8(hex.dropFirst($0).prefix(2), radix: 16)!
                }
                #expect(String(decoding: exact, as: UTF8.self) != text)  // only set when not UTF-8
                #expect(text == RawPath(exact).description, "the text shows each byte that is not UTF-8 as \\xNN")
            } else {
                exact = Array(text.utf8)
            }
            inputs.insert(exact)
        }
        let prefix = input.bytes + [0x2F]
        #expect(inputs == Set(Self.treeNames.map { prefix + $0 }))
    }

    /// A file named directly on the command line is found under its bytes (`CommandLine.arguments`
    /// would have turned 0xE9 into U+FFFD), written beside it as NAME_x2.png, or to `-o` bytes.
    @Test func fileNamedDirectly() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = RawPath(root)
        let name = RawPath(Array("caf".utf8) + [0xE9] + Array(".png".utf8))
        try Self.writeFile(base + name, Self.image)
        try TestModel.write(to: root + "/model.bin")
        let beside = try Spawned.run([(base + name).argument, "-m", root + "/model.bin"], in: root)
        #expect(beside.status == 0, "\(beside.stderr)")
        let named = RawPath([0xE9, 0x74, 0xE9] + Array(".png".utf8))
        let toNamed = try Spawned.run([(base + name).argument, "-m", root + "/model.bin", "-o", (base + named).argument],
                                      in: root)
        #expect(toNamed.status == 0, "\(toNamed.stderr)")
        let files = Self.listTree(base)
        #expect(files.contains(Array("caf".utf8) + [0xE9] + Array("_x2.png".utf8)), "\(files.map(RawPath.init))")
        #expect(files.contains(named.bytes), "\(files.map(RawPath.init))")
        // The output is found under its bytes too: refused as existing, replaced with --overwrite.
        let again = try Spawned.run([(base + name).argument, "-m", root + "/model.bin"], in: root)
        #expect(again.status == 1 && again.stderr.contains("caf\\xe9_x2.png already exists"), "\(again.stderr)")
        let replaced = try Spawned.run([(base + name).argument, "-m", root + "/model.bin", "--overwrite"], in: root)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(Self.listTree(base) == files)
    }

    /// `--verbose` names such a file with its bytes escaped (`caf\xe9.png`), never as a broken link,
    /// and writes nothing on stderr that is not UTF-8.
    @Test func verboseShowsTheNameEscaped() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = RawPath(root)
        try Self.makeFolder(base + RawPath("d"))
        try Self.writeFile(base + RawPath("d") + RawPath(Array("caf".utf8) + [0xE9] + Array(".png".utf8)), Self.image)
        try TestModel.write(to: root + "/model.bin")
        let result = try Spawned.run([root + "/d", "-o", root + "/out", "-m", root + "/model.bin", "--verbose"], in: root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("done \(root)/d/caf\\xe9.png -> \(root)/out/caf\\xe9.png"), "\(result.stderr)")
        #expect(!result.stderr.contains("symbolic link") && !result.stderr.contains("\u{FFFD}"), "\(result.stderr)")
        #expect(result.stderr.contains("1 done, 0 skipped, 0 failed"), "\(result.stderr)")
    }

    /// Names with terminal controls: `\e[2J` (clear the screen), `\e]0;…\a` (the window title), a
    /// newline, C1's CSI and a right-to-left override. On stderr and in `--dry-run`'s listing
    /// each control is an escape and no control byte is written; `--json` keeps the exact names.
    @Test func controlCharactersInNamesAreEscaped() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = RawPath(root)
        try Self.makeFolder(base + RawPath("d"))
        let names = ["a\u{1B}[2J\u{1B}]0;pwned\u{07}.png", "nl\nerror: fake.png", "c1\u{9B}31m.png", "rlo\u{202E}gnp.png"]
        for name in names { try Self.writeFile(base + RawPath("d") + RawPath(name), Self.image) }
        try TestModel.write(to: root + "/model.bin")
        let args = [root + "/d", "-o", root + "/out", "-m", root + "/model.bin"]

        let verbose = try Spawned.run(args + ["--verbose"], in: root)
        #expect(verbose.status == 0, "\(verbose.stderr)")
        for text in ["a\\x1b[2J\\x1b]0;pwned\\x07.png", "nl\\x0aerror: fake.png", "c1\\u009b31m.png", "rlo\\u202egnp.png"] {
            #expect(verbose.stderr.contains("d/\(text) -> "), "\(text) in \(verbose.stderr)")
        }
        #expect(!Self.hasControls(verbose.stderr), "\(verbose.stderr.debugDescription)")
        #expect(!verbose.stderr.contains("\nerror: fake"))

        let dryRun = try Spawned.run(args + ["--dry-run", "--overwrite"], in: root)
        #expect(dryRun.status == 0 && dryRun.stdout.split(separator: "\n").count == names.count, "\(dryRun.stdout.debugDescription)")
        #expect(!Self.hasControls(dryRun.stdout.replacingOccurrences(of: "\t", with: " ")), "\(dryRun.stdout.debugDescription)")

        let json = try Spawned.run(args + ["--json", "--overwrite"], in: root)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(!Self.hasControls(json.stdout), "\(json.stdout.debugDescription)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let inputs = (report["files"] as? [[String: Any]] ?? []).compactMap { $0["input"] as? String }
        #expect(Set(inputs) == Set(names.map { root + "/d/" + $0 }))
    }

    /// `upscale info` on a model whose metadata and name hold terminal controls and newlines, and
    /// an unknown option holding one: all shown escaped.
    @Test func modelMetadataAndArgumentsAreEscaped() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let weight = Tensor(shape: [3, 1, 2, 2], data: [Float](repeating: 1, count: 12))
        let model = try Model(layers: [ModelLayer(weight: weight, stride: (2, 2), groups: 3)], scale: 2, channels: .rgb,
                              residual: .none, metadata: ["name": "evil\u{1B}[31m\nfake: line", "k\u{1B}]0;t\u{07}": "v\u{9B}"])
        let path = root + "/m\u{1B}[2J.bin"
        try model.write(to: path)
        let info = try Spawned.run(["info", path], in: root)
        #expect(info.status == 0, "\(info.stderr)")
        #expect(!Self.hasControls(info.stdout.replacingOccurrences(of: "\n", with: " ")), "\(info.stdout.debugDescription)")
        #expect(info.stdout.contains("evil\\x1b[31m\\x0afake: line") && info.stdout.contains("k\\x1b]0;t\\x07")
                && info.stdout.contains("v\\u009b") && info.stdout.contains("m\\x1b[2J.bin"), "\(info.stdout)")

        let missing = try Spawned.run(["info", root + "/gone\u{1B}[31m.bin"], in: root)
        #expect(missing.status == 1 && missing.stderr.contains("gone\\x1b[31m.bin"), "\(missing.stderr)")
        let option = try Spawned.run(["a.png", "--\u{1B}[31mbogus"], in: root)
        #expect(option.status == 64 && option.stderr.contains("\\x1b[31mbogus"), "\(option.stderr)")
        #expect(!Self.hasControls(missing.stderr + option.stderr), "\((missing.stderr + option.stderr).debugDescription)")
    }

    /// True when `text` holds a control character other than a newline (C0, DEL, C1) or a
    /// bidirectional control.
    static func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            scalar != "\n" && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || [0x200E, 0x200F, 0x2028, 0x2029].contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
                || (0x2066...0x2069).contains(scalar.value))
        }
    }
}
