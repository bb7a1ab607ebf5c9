import UpscaleKit

extension BatchReport {
    /// The process exit status of this run (docs/cli.md): 130 interrupted, 1 any input failed, else 0.
    var exitStatus: Int32 {
        if interrupted { return 130 }
        return totals.failed > 0 ? 1 : 0
    }
}
