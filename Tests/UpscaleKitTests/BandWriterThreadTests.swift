// Which thread encodes the bands: a writer thread beside the tile workers, or with one thread for
// the run (`-j 1`) the loop's own thread, so that the run keeps to one busy thread (issue 28).
import Foundation
import Testing
@testable import UpscaleKit

/// Records the thread each band was written on.
private final class ThreadRecordingWriter: ImageRowWriter {
    private(set) var rowsWritten = 0
    private(set) var threads: [pthread_t] = []
    func write(_ band: ImageBand) throws {
        threads.append(pthread_self())
        rowsWritten += band.rows
    }
    func finish() throws -> [WriterNote] { [] }
    func abort() {}
}

@Test(arguments: [1, 2])
func bandsAreWrittenOnTheLoopsThreadOnlyWithOneThread(threads: Int) throws {
    let model = try streamTestModel("x2")
    var rng = SeededRandom(seed: 28)
    let color = Tensor(shape: [1, 3, 12, 9], data: rng.floats(3 * 12 * 9, 0...1))
    var options = StreamOptions()
    options.run.threads = threads
    options.bandRows = 4
    let writer = ThreadRecordingWriter()
    try model.upscale(from: TensorRows(color: color, alpha: nil), to: writer, options: options)
    let caller = pthread_self()
    #expect(writer.rowsWritten == 24 && writer.threads.count == 3)
    let onCaller = writer.threads.map { pthread_equal($0, caller) != 0 }
    #expect(onCaller == [Bool](repeating: threads == 1, count: 3), "-j \(threads): written on the caller's thread \(onCaller)")
}
