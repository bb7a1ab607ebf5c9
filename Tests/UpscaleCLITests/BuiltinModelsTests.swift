import Foundation
import Testing
import UpscaleKit

/// The embedded models are exactly models/*.bin: regenerate with tools/embed_models.sh when this fails.
@Test func embeddedModelsEqualModelsFolder() throws {
    let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../models").standardized
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: models.path)) ?? [])
        .filter { $0.hasSuffix(".bin") }.sorted()
    #expect(BuiltinModels.names == files.map { String($0.dropLast(4)) },
            "models/ and BuiltinModels.swift differ; run tools/embed_models.sh")
    for file in files {
        let onDisk = [UInt8](try Data(contentsOf: models.appendingPathComponent(file)))
        #expect(BuiltinModels.bytes(named: String(file.dropLast(4))) == onDisk, "\(file) drifted; run tools/embed_models.sh")
    }
    #expect(BuiltinModels.bytes(named: "no-such-model") == nil)
}
