// A model's plans built on several workers (ConvTranspose2DPlan.plans, the run's `-j` at load): the
// same plans and bits as built one by one, in order.
import Testing
@testable import UpscaleKit

@Suite struct ModelLoadThreadsTests {
    @Test func plansBuiltOnSeveralWorkersGiveTheSameBits() throws {
        let bytes = try GraphFixtures.graph("rrdb_x4_new.pth").serialized()
        let one = try GraphModel(bytes: bytes, name: "rrdb_x4_new", threads: 1)
        let input = try GraphFixtures.tensor("rrdb_x4", "input")
        let whole = try one.networkOutput(input, threads: 1)
        for threads in [2, 3, 8] {
            let many = try GraphModel(bytes: bytes, name: "rrdb_x4_new", threads: threads)
            #expect(many.nodes.indices.map(many.algorithm(ofNode:)) == one.nodes.indices.map(one.algorithm(ofNode:)))
            #expect(many.weightBytes == one.weightBytes)
            #expect(try many.networkOutput(input, threads: 1) == whole, "plans built on \(threads) workers")
        }
        // Many conv nodes, each with its own weights: plans given to the wrong nodes would change the output.
        #expect(one.nodes.filter { if case .conv = $0.op { return true } else { return false } }.count > 10)
    }
}
