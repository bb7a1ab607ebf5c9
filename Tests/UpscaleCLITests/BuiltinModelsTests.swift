import Foundation
import Testing
import UpscaleKit
import UpscaleModels

/// The embedded models are exactly models/*.bin: rerun tools/embed_models.sh when the names differ.
@Test func embeddedModelsEqualModelsFolder() throws {
    let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../models").standardized
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? [])
        .filter { $0.hasSuffix(".bin") }.sorted()
    // Sorted by name, as embed_models.sh orders them (x4 before x4-denoise2).
    #expect(BuiltinModels.names == files.map { String($0.dropLast(4)) }.sorted(),
            "models/ and the embedded list differ; run tools/embed_models.sh")
    for file in files {
        let onDisk = [UInt8](try Data(contentsOf: models.appendingPathComponent(file)))
        let embedded = try #require(BuiltinModels.bytes(named: String(file.dropLast(4))))
        // Compared without printing the arrays: a model is megabytes.
        let firstDifference = zip(embedded, onDisk).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(embedded.count == onDisk.count && firstDifference == nil,
                "\(file) drifted (embedded \(embedded.count) bytes, on disk \(onDisk.count), first difference at \(firstDifference.map(String.init) ?? "-")); run tools/embed_models.sh")
    }
    #expect(BuiltinModels.bytes(named: "no-such-model") == nil)
}
