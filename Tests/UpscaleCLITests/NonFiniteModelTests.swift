import Foundation
import Testing
import UpscaleKit

/// A model whose finite weights overflow float (issue 15, item 10): the file fails, nothing is written.
@Suite struct NonFiniteModelTests {
    /// Two layers: a 1×1 mix of R, G, B with weights 3e38 (a white pixel sums to 9e38 = +inf),
    /// then the test model's nearest-neighbour ×2.
    static func overflowingModel(to path: String) throws {
        let mix = ModelLayer(weight: Tensor(shape: [3, 3, 1, 1], data: [Float](repeating: 3e38, count: 9)))
        let nearest = ModelLayer(weight: Tensor(shape: [3, 1, 2, 2], data: [Float](repeating: 1, count: 12)),
                                 stride: (2, 2), groups: 3)
        try Model(layers: [mix, nearest], scale: 2, channels: .rgb, residual: .none,
                  metadata: ["name": "overflow-x2"]).write(to: path)
    }

    @Test(arguments: [[String](), ["--tta"]])
    func overflowFailsTheFileAndWritesNothing(extra: [String]) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.overflowingModel(to: root + "/overflow.bin")
        let white = [UInt8](repeating: 255, count: 20 * 12 * 3)
        try TinyPNG.rgb(width: 20, height: 12, pixels: white).write(to: URL(fileURLWithPath: root + "/a.png"))
        let result = try CLI.run(["a.png", "-o", "out.png", "-m", "overflow.bin", "--json"] + extra, in: root)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("the model produced NaN/infinite values"), "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(files == ["a.png", "overflow.bin"], "the output (or a temporary file) was written: \(files)")
        #expect(result.stdoutText.contains("\"failed\" : 1"), "\(result.stdoutText)")
    }

    @Test func overflowToStdoutWritesNoBytes() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.overflowingModel(to: root + "/overflow.bin")
        let white = TinyPNG.rgb(width: 8, height: 8, pixels: [UInt8](repeating: 255, count: 8 * 8 * 3))
        let result = try CLI.run(["-", "-m", "overflow.bin"], in: root, stdin: white)
        #expect(result.status == 1 && result.stdout.isEmpty, "\(result.stderr)")
        #expect(result.stderr.contains("the model produced NaN/infinite values"), "\(result.stderr)")
    }
}
