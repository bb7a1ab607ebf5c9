import Foundation
import Testing
@testable import UpscaleKit

/// The byte ↔ String mapping of paths and the escaping for terminals and JSON (issue 24, items 2
/// and 8). The oracle for "is this UTF-8" is Swift's own validating decoder, `String(validating:)`.
@Suite struct PathBytesTests {
    /// Names of the issue and the edge cases of UTF-8, with the bytes each scalar stands for.
    @Test(arguments: [
        ([0x63, 0x61, 0x66, 0xE9], "caf\u{10FFE9}"),                       // Latin-1 é: not UTF-8
        ([0x63, 0x61, 0x66, 0xC3, 0xA9], "café"),                            // UTF-8 é: itself
        ([0xC3], "\u{10FFC3}"),                                              // a truncated sequence
        ([0xE2, 0x82], "\u{10FFE2}\u{10FF82}"),                              // truncated after 2 of 3
        ([0xC0, 0xAF], "\u{10FFC0}\u{10FFAF}"),                              // an overlong `/`
        ([0xED, 0xA0, 0x80], "\u{10FFED}\u{10FFA0}\u{10FF80}"),              // a UTF-16 surrogate
        ([0xF4, 0x90, 0x80, 0x80], "\u{10FFF4}\u{10FF90}\u{10FF80}\u{10FF80}"),  // past U+10FFFF
        ([0xF4, 0x8F, 0xBF, 0xA9], "\u{10FFF4}\u{10FF8F}\u{10FFBF}\u{10FFA9}"),  // U+10FFE9 itself: escaped
        ([0xF4, 0x8F, 0xBB, 0xBF], "\u{10FEFF}"),                            // just below the range
        ([0xF0, 0x9F, 0x98, 0x80, 0xFF], "😀\u{10FFFF}"),
        ([0x1B, 0x5B, 0x32, 0x4A], "\u{1B}[2J"),
    ] as [([UInt8], String)])
    func knownNames(bytes: [UInt8], string: String) {
        #expect(Array(PathBytes.string(bytes).unicodeScalars) == Array(string.unicodeScalars))
        #expect(PathBytes.bytes(string) == bytes)
    }

    /// 20000 seeded random byte strings, biased towards bytes of multi-byte sequences: the round
    /// trip is exact, the String is the plain decoding exactly when the bytes are UTF-8 that avoids
    /// the escape range, and `isUTF8` says which.
    @Test func randomBytesRoundTrip() {
        var random = SeededRandom(seed: 24)
        let alphabet: [UInt8] = [0x2E, 0x61, 0x7F, 0x80, 0x8F, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0, 0xED, 0xEF,
                                 0xF0, 0xF4, 0xF5, 0xFF, 0xBC, 0xA0, 0x9F, 0x90]
        for k in 0..<20_000 {
            let length = Int(random.next() % 9)
            let bytes = (0..<length).map { _ -> UInt8 in
                random.next() % 3 == 0 ? UInt8(truncatingIfNeeded: random.next()) : alphabet[Int(random.next() % UInt64(alphabet.count))]
            }
            let path = PathBytes.string(bytes)
            #expect(PathBytes.bytes(path) == bytes, "case \(k): \(bytes)")
            let valid = String(validating: bytes, as: UTF8.self)
            let plain = valid.map { !$0.unicodeScalars.contains { $0.value >= 0x10_FF00 } } ?? false
            #expect(PathBytes.isUTF8(path) == plain, "case \(k): \(bytes)")
            if plain { #expect(Array(path.unicodeScalars) == Array(valid!.unicodeScalars), "case \(k): \(bytes)") }
            #expect(path.pathCString == bytes.map { CChar(bitPattern: $0) } + [0])
        }
    }

    /// `é` precomposed and decomposed are one text to Swift's `==`, and two files.
    @Test func equalTextsAreNotEqualPaths() {
        #expect("caf\u{E9}.png" == "cafe\u{301}.png")
        #expect("caf\u{E9}.png".pathBytes != "cafe\u{301}.png".pathBytes)
        let inputs = ["caf\u{E9}.png", "cafe\u{301}.png"]
        #expect(Set(inputs.map(\.pathBytes)).count == 2)
    }

    @Test(arguments: [
        ("caf\u{10FFE9}.png", "caf\\xe9.png"),
        ("a\u{1B}[2J\u{1B}]0;pwned\u{07}.png", "a\\x1b[2J\\x1b]0;pwned\\x07.png"),
        ("two\nlines\r\t", "two\\x0alines\\x0d\\x09"),
        ("del\u{7F} c1\u{9B} nel\u{85}", "del\\x7f c1\\u009b nel\\u0085"),
        ("rlo\u{202E}fdp.exe ls\u{2028}", "rlo\\u202efdp.exe ls\\u2028"),
        ("back\\slash café 😀", "back\\slash café 😀"),
    ] as [(String, String)])
    func terminalEscapes(text: String, shown: String) {
        #expect(TerminalText.escape(text) == shown)
        #expect(TerminalText.escape(shown) == shown)  // escaping twice changes nothing
    }

    @Test func newlinesKeptOnRequest() {
        #expect(TerminalText.escape("a\n\u{1B}b\n", keepNewlines: true) == "a\n\\x1bb\n")
    }

    /// JSON of texts with every kind of control: valid, and decoding to the very same texts; no
    /// scalar that could drive a terminal is left in the document itself.
    @Test func jsonStaysExact() throws {
        let texts = ["a\u{1B}[2J\u{07}", "nl\n", "c1\u{9B}\u{85}", "bidi\u{202E}\u{2066}", "ls\u{2028}ps\u{2029}", "del\u{7F}", "😀é"]
        let encoded = String(decoding: try JSONEncoder().encode(texts), as: UTF8.self)
        let safe = TerminalText.jsonSafe(encoded)
        #expect(!safe.unicodeScalars.contains { TerminalText.needsEscape($0) }, "\(safe)")
        #expect(try JSONDecoder().decode([String].self, from: Data(safe.utf8)) == texts)
    }

    /// A path that is not UTF-8 in JSON: the text shows its bytes, the hex is exact; and an
    /// escaped byte left in other text becomes the text `\xNN`.
    @Test func jsonPaths() throws {
        let path = PathBytes.string([0x64, 0x2F, 0xE9, 0x2E, 0x70])
        #expect(TerminalText.jsonPath(path) == ("d/\\xe9.p", "642fe92e70"))
        #expect(TerminalText.jsonPath("d/é.p") == ("d/é.p", nil))
        let encoded = String(decoding: try JSONEncoder().encode(["\(path): failed"]), as: UTF8.self)
        #expect(try JSONDecoder().decode([String].self, from: Data(TerminalText.jsonSafe(encoded).utf8)) == ["d/\\xe9.p: failed"])
    }

    /// The file-system calls on a name that is not UTF-8: create, list, stat, resolve, read.
    @Test func fileSystemOnBytes() throws {
        let root = NSTemporaryDirectory() + "upscale-bytes-\(UUID().uuidString)"
        let folder = root + "/" + PathBytes.string([0x46, 0xE9, 0xFF]) + "/sub"
        try FileSystem.createFolders(folder)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = folder + "/" + PathBytes.string([0x63, 0xE9])
        let fd = open(file.pathCString, O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        #expect(write(fd, "abc", 3) == 3)
        close(fd)
        // The oracle: the same bytes, spelt out, name the file.
        var raw = Array(root.utf8) + [0x2F, 0x46, 0xE9, 0xFF] + Array("/sub/".utf8) + [0x63, 0xE9, 0]
        var status = stat()
        #expect(raw.withUnsafeMutableBytes { stat($0.baseAddress!.assumingMemoryBound(to: CChar.self), &status) } == 0)
        #expect(try FileSystem.names(inFolder: folder) == [PathBytes.string([0x63, 0xE9])])
        #expect(try FileSystem.names(inFolder: root) == [PathBytes.string([0x46, 0xE9, 0xFF])])
        #expect(FileSystem.isFolder(folder) && !FileSystem.isFolder(file) && FileSystem.exists(file))
        #expect(FileSystem.size(file) == 3 && FileSystem.contents(file) == Array("abc".utf8))
        #expect(FileSystem.realPath(file).map { $0.hasSuffix("/sub/" + PathBytes.string([0x63, 0xE9])) } == true)
        #expect(FileIdentity(path: file) != nil)
        #expect(throws: FileSystem.Failure.self) { try FileSystem.createFolders(file + "/below") }
    }
}
