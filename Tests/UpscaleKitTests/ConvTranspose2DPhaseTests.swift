// The pure-integer phase geometry of the fast kernel, against the scatter definition
// o = h·s − pad + k·d, by brute force over small layers.
import Testing
@testable import UpscaleKit

@Test func stride2KernelSplitsIntoTwoPhases() {
    let phases = ConvTransposeAxisPhase.phases(kernel: 9, stride: 2, dilation: 1)
    #expect(phases.map(\.taps) == [[8, 6, 4, 2, 0], [7, 5, 3, 1]])
    #expect(phases.map(\.offsets) == [[-4, -3, -2, -1, 0], [-3, -2, -1, 0]])
}

@Test func stride1IsTheFlippedKernelAndDilationSpreadsIt() {
    #expect(ConvTransposeAxisPhase.phases(kernel: 3, stride: 1, dilation: 2)
        == [ConvTransposeAxisPhase(phase: 0, taps: [2, 1, 0], offsets: [-4, -2, 0])])
    // stride 2, dilation 2: every tap lands on even positions; odd outputs get only the bias.
    let phases = ConvTransposeAxisPhase.phases(kernel: 3, stride: 2, dilation: 2)
    #expect(phases.map(\.taps) == [[2, 1, 0], []])
}

@Test func phasesMatchTheScatterDefinition() {
    for kernel in 1...6 { for stride in 1...4 { for dilation in 1...3 { for pad in 0...5 { for size in 1...5 {
        let outSize = AxisGeometry(kernel: kernel, stride: stride, padding: pad, dilation: dilation).outputSize(size)
        guard outSize > 0 else { continue }
        let phases = ConvTransposeAxisPhase.phases(kernel: kernel, stride: stride, dilation: dilation)
        // Every output position belongs to exactly one phase's range ...
        var owner = [Int](repeating: 0, count: outSize)
        for phase in phases {
            for q in phase.outputRange(stride: stride, padding: pad, outSize: outSize) {
                owner[phase.output(q, stride: stride, padding: pad)] += 1
            }
        }
        #expect(owner.allSatisfy { $0 == 1 }, "k=\(kernel) s=\(stride) d=\(dilation) p=\(pad) size=\(size)")
        // ... and receives from input h through tap k exactly when o = h·s − pad + k·d.
        for phase in phases {
            // The kernel steps through column taps by a constant stride.
            let steps = Set(zip(phase.offsets.dropFirst(), phase.offsets).map { $0 - $1 })
            #expect(steps.count <= 1, "offsets \(phase.offsets) not evenly spaced")
            for q in phase.outputRange(stride: stride, padding: pad, outSize: outSize) {
                let o = phase.output(q, stride: stride, padding: pad)
                var fromPhase: [[Int]] = []
                for (a, k) in phase.taps.enumerated() { fromPhase.append([q + phase.offsets[a], k]) }
                var fromDefinition: [[Int]] = []
                for k in (0..<kernel).reversed() where (o + pad - k * dilation) % stride == 0 {
                    fromDefinition.append([(o + pad - k * dilation) / stride, k])
                }
                #expect(fromPhase == fromDefinition, "o=\(o) k=\(kernel) s=\(stride) d=\(dilation) p=\(pad)")
            }
        }
    } } } } }
}

@Test func slotTablesMixRowPhasesWhenTheStrideDividesTheTile() {
    let phases = ConvTransposeAxisPhase.phases(kernel: 9, stride: 2, dilation: 1)
    let mixed = ConvTransposeSlotTable.tables(phases, rows: 4)
    #expect(mixed.count == 1)
    #expect(mixed[0].slots.map { [$0.phase, $0.row] } == [[0, 0], [1, 0], [0, 1], [1, 1]])
    #expect(mixed[0].phaseRows == 2)
    #expect(mixed[0].inputRows == [-4, -3, -2, -1, 0, 1])
    // Stride 3 does not divide 4 slots: one table per phase, 4 rows of that phase each.
    let single = ConvTransposeSlotTable.tables(ConvTransposeAxisPhase.phases(kernel: 5, stride: 3, dilation: 1), rows: 4)
    #expect(single.count == 3 && single.allSatisfy { $0.phaseRows == 4 })
    // Every slot meets each of its phase's taps once, in ascending input row, i.e. canonical order.
    for (kernel, stride, dilation, rows) in [(9, 2, 1, 4), (5, 3, 1, 4), (3, 1, 3, 2), (4, 2, 1, 2), (3, 2, 2, 4)] {
        let phases = ConvTransposeAxisPhase.phases(kernel: kernel, stride: stride, dilation: dilation)
        for table in ConvTransposeSlotTable.tables(phases, rows: rows) {
            for (s, slot) in table.slots.enumerated() {
                var visited: [Int] = []
                for (j, inputRow) in table.inputRows.enumerated() {
                    let a = Int(table.tapOfRow[j * table.slots.count + s])
                    guard a >= 0 else { continue }
                    #expect(slot.row + phases[slot.phase].offsets[a] == inputRow)
                    visited.append(a)
                }
                #expect(visited == Array(phases[slot.phase].taps.indices), "k=\(kernel) s=\(stride) slot \(slot)")
            }
        }
    }
}
