import Foundation
import Testing
import UpscaleKit
#if canImport(Glibc)
import Glibc
#endif

/// Seeded random file and folder names (issue 24, "Fuzzing and checks": non-UTF-8 names, names
/// with control characters): bytes that are not UTF-8, truncated and overlong sequences, C0 and
/// C1 controls, bidirectional controls, UTF-8 of the private-use scalars the path mapping uses,
/// and names that only Unicode normalisation tells apart. Every file is walked, upscaled and
/// mirrored under its own bytes; the report names each exactly; nothing on stderr is a control.
/// UPSCALE_FUZZ_SEED=N replays another seed.
@Suite struct NameFuzzTests {
    typealias RawPath = BytePathTests.RawPath

    /// Pieces names are made of.
    static let pieces: [[UInt8]] = [
        Array("a".utf8), Array("Z9".utf8), Array(" ".utf8), Array("-_".utf8), [0x5C],   // backslash
        [0xE9], [0xFF], [0xFE], [0x80], [0xC3], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5],
        Array("é".utf8), Array("e\u{301}".utf8), Array("😀".utf8), Array("日本".utf8),
        [0x1B, 0x5B, 0x32, 0x4A], [0x1B, 0x5D, 0x30, 0x3B, 0x78, 0x07], [0x0A], [0x0D], [0x09], [0x7F],
        Array("\u{9B}".utf8), Array("\u{85}".utf8), Array("\u{202E}".utf8), Array("\u{2028}".utf8),
        [0xF4, 0x8F, 0xBF, 0xA9], [0xF4, 0x8F, 0xBC, 0x80],
    ]

    static func name(_ random: inout FuzzRandom) -> [UInt8] {
        var name: [UInt8] = []
        for _ in 0..<(1 + random.next(6)) { name += random.pick(pieces) }
        return name
    }

    @Test func randomNamesAreWalkedMirroredAndReported() throws {
        let seed = Mutator.seed
        var random = FuzzRandom(seed: seed ^ 0x6E61_6D65)
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = RawPath(root)
        let input = base + RawPath("in")
        try BytePathTests.makeFolder(input)
        var folders: [[UInt8]] = [[]]
        for _ in 0..<4 {
            let folder = Self.name(&random)
            if folders.contains(folder) { continue }
            try BytePathTests.makeFolder(input + RawPath(folder))
            folders.append(folder)
        }
        // One name and its decomposed twin, always: two files to the bytes, one text to `==`.
        var files: Set<[UInt8]> = [Array("caf\u{E9}.png".utf8), Array("cafe\u{301}.png".utf8)]
        for _ in 0..<40 {
            let folder = random.pick(folders)
            let file = (folder.isEmpty ? [] : folder + [0x2F]) + Self.name(&random) + Array(random.pick([".png", ".PNG"]).utf8)
            files.insert(file)
        }
        for file in files { try BytePathTests.writeFile(input + RawPath(file), BytePathTests.image) }
        try TestModel.write(to: root + "/model.bin")
        let context = "seed \(seed) (replay with UPSCALE_FUZZ_SEED=\(seed)); names \(files.map { RawPath($0).description }.sorted())"

        let result = try Spawned.run([input.argument, "-r", "-o", root + "/out", "-m", root + "/model.bin", "--json",
                                      "--verbose"], in: root)
        #expect(result.status == 0 && result.signal == nil, "\(result.stderr) \(context)")
        #expect(BytePathTests.listTree(base + RawPath("out")) == files, "\(context)")
        #expect(result.stderr.contains("\(files.count) done, 0 skipped, 0 failed"), "\(result.stderr) \(context)")
        #expect(!BytePathTests.hasControls(result.stderr) && !result.stderr.contains("\u{FFFD}"), "\(result.stderr.debugDescription)")
        // One line per file, the model's, the summary: no name broke a line.
        #expect(result.stderr.split(separator: "\n").filter { !$0.hasPrefix("progress") }.count == files.count + 2,
                "\(result.stderr) \(context)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                                  "\(result.stdout) \(context)")
        var reported = Set<[UInt8]>()
        for file in report["files"] as? [[String: Any]] ?? [] {
            let text = file["input"] as? String ?? ""
            let exact = (file["inputHex"] as? String).map { hex in
                stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16) ?? 0 }
            } ?? Array(text.utf8)
            reported.insert(Array(exact.dropFirst(input.bytes.count + 1)))
        }
        #expect(reported == files, "\(context)")
    }
}
