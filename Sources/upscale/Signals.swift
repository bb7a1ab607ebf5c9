import Dispatch
import Foundation
import Synchronization
import UpscaleKit

/// Ctrl-C, SIGTERM and SIGHUP (a closed terminal, a dropped ssh session): stop promptly, remove
/// temporary files, keep finished outputs, print the report, exit 130.
///
/// The signals are taken by dispatch sources, so the reaction runs as ordinary code on a queue
/// rather than inside a signal handler. The first signal sets `isCancelled`, which the engine polls
/// between tiles; the batch loop then stops, removes temp files and exits 130. If the work does not
/// wind down within `graceSeconds` (a long decode), or a second signal arrives, the temp files are
/// removed here and the process exits 130 at once.
enum Interruption {
    private static let cancelled = Atomic<Bool>(false)
    // Unchecked: appended to only by `install`, once, on the main thread before any worker starts.
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    static let graceSeconds = 3.0

    static var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    static func install() {
        let queue = DispatchQueue(label: "upscale.signals")
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                if cancelled.exchange(true, ordering: .relaxed) {
                    exitNow()
                }
                queue.asyncAfter(deadline: .now() + graceSeconds) { exitNow() }
            }
            source.resume()
            sources.append(source)
        }
    }

    private static func exitNow() {
        AtomicFile.removeAllInFlight()
        StandardError.write("upscale: interrupted; finished outputs are kept, unfinished ones removed.\n")
        _exit(130)
    }
}
