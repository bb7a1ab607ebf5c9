import Foundation
import Testing
@testable import UpscaleKit

/// `-j N` with a graph model: the pipeline's work items take the run's busy slots (shared with the
/// band writer thread), and the bits do not change.
@Suite struct GraphPipelineSlotsTests {
    @Test(arguments: [(7, 19), (16, 300)])
    func everyItemHoldsASlotAndTheBitsStay(h: Int, w: Int) throws {
        let model = try StaggeredTilesTests.skipGraph(depth: 5)
        var rng = SeededRandom(seed: 3)
        let input = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
        let whole = try model.networkOutput(input, threads: 1)
        let slots = BusySlots(capacity: 2)
        let pipeline = GraphPipeline(model: model, height: h, width: w, threads: 3, slots: slots)
        let out = try pipeline.outputRows(0..<h) { Model.rows($0, of: input) }
        #expect(out.data == whole.data)
        #expect(slots.runs > 0, "the pipeline's items ran outside the run's busy slots")
        #expect(slots.mostHeld <= 2)
    }
}
