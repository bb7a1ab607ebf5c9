// A run's graph model without its convolutions' weights as loaded (GraphModel.withoutSourceWeights):
// the same bits from the plans alone, the memory estimate without those bytes, and no way to write
// a file of it; the model as loaded keeps its weights.
import Testing
@testable import UpscaleKit

@Suite struct GraphSourceWeightsTests {
    @Test func runModelDropsTheWeightsAsLoadedAndKeepsItsBits() throws {
        let model = try GraphFixtures.graph("rrdb_x4_new.pth")
        let run = try model.withoutSourceWeights()
        var kernels = 0
        for (a, b) in zip(model.nodes, run.nodes) {
            guard case .conv(let loaded) = a.op, case .conv(let dropped) = b.op else { continue }
            #expect(loaded.hasWeight && !dropped.hasWeight && dropped.weight.count == 0 && dropped.weightShape == loaded.weight.shape)
            #expect(dropped.rowGeometry == loaded.rowGeometry && dropped.inChannels == loaded.inChannels)
            kernels += loaded.weight.count
        }
        #expect(kernels > 0)
        #expect(run.parameterCount == model.parameterCount && run.macsPerOutputPixel == model.macsPerOutputPixel)
        #expect(run.weightBytes == model.weightBytes - 4 * kernels, "\(run.weightBytes) vs \(model.weightBytes) − 4·\(kernels)")
        // The model as loaded is the oracle: its whole-image run, and the run's both ways.
        let input = try GraphFixtures.tensor("rrdb_x4", "input")
        let whole = try model.networkOutput(input, threads: 1)
        #expect(try run.networkOutput(input, threads: 2) == whole)
        #expect(try streamed(run, input, band: 5, threads: 2).0 == whole)
        // The memory estimate of a run counts what it holds.
        let info = ImageInfo(format: .png, width: input.shape[3], height: input.shape[2], channels: 3, streamable: true)
        let options = RunOptions()
        let estimate = { (m: GraphModel) in
            try Model(graph: m).memoryEstimate(for: info, run: options, format: .png, encode: EncodeOptions()).total
        }
        #expect(try estimate(run) == estimate(model) - 4 * kernels)
        // Writing needs the weights: the run's model refuses; the model as loaded still writes.
        #expect(throws: ModelError.self) { try run.serialized() }
        #expect(try !model.serialized().isEmpty)
    }
}
