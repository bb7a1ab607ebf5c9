// The CLI's own values, tested in-process: the progress display's text and the exit status a
// batch's report maps to (docs/cli.md: 0 done, 1 any input failed, 130 interrupted).
import Foundation
import Testing
import UpscaleKit
@testable import upscale

@Suite struct ProgressAndExitTests {
    @Test func progressFractionEtaAndBarWidth() {
        let state = ProgressState(fileIndex: 1, fileCount: 4, fileName: "a.png", tilesDone: 2, tilesTotal: 4, elapsed: 10)
        #expect(state.fraction == 0.375)
        #expect(abs((state.eta ?? 0) - 10 * 0.625 / 0.375) < 1e-9)
        #expect(state.bar(width: 30).count == 30)
        #expect(state.bar(width: 200).contains("2/4 files") && state.bar(width: 200).contains("tile 2/4"))
        #expect(state.plainLine == "progress 2/4 files, tile 2/4 of a.png, 38%, ETA 16.7 s")
        #expect(BatchReport.formatSeconds(3725) == "1:02:05" && BatchReport.formatSeconds(75) == "1:15")
    }

    @Test func exitStatusIsOneForAnyFailureAndOneThirtyWhenInterrupted() {
        func report(_ statuses: [FileReport.Status], interrupted: Bool = false) -> BatchReport {
            BatchReport(model: "x2", scale: 2, shard: nil, interrupted: interrupted,
                        files: statuses.map { FileReport(input: "a.png", output: "b.png", status: $0) }, seconds: 1)
        }
        #expect(report([]).exitStatus == 0)
        #expect(report([.done, .skipped]).exitStatus == 0)
        #expect(report([.done, .failed, .skipped]).exitStatus == 1)
        #expect(report([.done, .failed, .cancelled], interrupted: true).exitStatus == 130)
        #expect(report([], interrupted: true).exitStatus == 130)
    }
}
