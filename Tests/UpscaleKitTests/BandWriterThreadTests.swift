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
    let writer = ThreadRecordingWriter()
    try upscaleInThreeBands(seed: 28, threads: threads, into: writer)
    let caller = pthread_self()
    #expect(writer.rowsWritten == 24 && writer.threads.count == 3)
    let onCaller = writer.threads.map { pthread_equal($0, caller) != 0 }
    #expect(onCaller == [Bool](repeating: threads == 1, count: 3), "-j \(threads): written on the caller's thread \(onCaller)")
}

/// Takes packed 8-bit RGB rows and records, per band, the threads it was allowed and how many of
/// the run's slots were held meanwhile.
private final class PackedRecordingWriter: ImageRowWriter {
    private(set) var rowsWritten = 0
    private(set) var allowed: [Int] = []
    var packedLayout: PackedRowLayout? { PackedRowLayout(sampleBits: 8, colorChannels: 3, withAlpha: false) }
    func write(_ band: ImageBand) throws { Issue.record("float band for a writer that takes packed rows") }
    func writePacked(_ bytes: [UInt8], rows: Int, threads: Int) throws {
        allowed.append(threads)
        rowsWritten += rows
    }
    func finish() throws -> [WriterNote] { [] }
    func abort() {}
}

/// The last band is encoded when nothing else computes: the writer may then use every thread of
/// `-j N` (a PNG's deflate blocks on N threads), the other bands one, beside the tile workers.
@Test(arguments: [1, 2, 3])
func onlyTheLastBandIsEncodedOnEveryThread(threads: Int) throws {
    let writer = PackedRecordingWriter()
    try upscaleInThreeBands(seed: 2828, threads: threads, into: writer)
    #expect(writer.rowsWritten == 24)
    #expect(writer.allowed == [1, 1, threads], "-j \(threads): threads per band \(writer.allowed)")
}

/// A holder of several slots waits until that many are free, and meanwhile no one else takes one.
@Test func busySlotsHeldTogetherNeverExceedTheCapacity() throws {
    let slots = BusySlots(capacity: 3)
    let held = Locked(0), most = Locked(0)
    @Sendable func hold(_ count: Int, priority: Bool = false) {
        slots.run(priority: priority, count: count) {
            let now = held.withLock { $0 += count; return $0 }
            most.withLock { $0 = max($0, now) }
            usleep(2000)
            held.withLock { $0 -= count }
        }
    }
    DispatchQueue.concurrentPerform(iterations: 24) { k in
        hold(k % 4 == 0 ? 3 : 1, priority: k % 4 == 0)
    }
    #expect(most.withLock { $0 } <= 3 && slots.mostHeld <= 3, "held at most \(most.withLock { $0 }), slots say \(slots.mostHeld)")
    #expect(slots.runs == 24)
}

/// A seeded 12×9 RGB image through the x2 test model on `threads` threads, in three bands of 4
/// input rows (8 output rows each), into `writer`.
private func upscaleInThreeBands(seed: UInt64, threads: Int, into writer: any ImageRowWriter) throws {
    let model = try streamTestModel("x2")
    var rng = SeededRandom(seed: seed)
    let color = Tensor(shape: [1, 3, 12, 9], data: rng.floats(3 * 12 * 9, 0...1))
    var options = StreamOptions()
    options.run.threads = threads
    options.bandRows = 4
    try model.upscale(from: TensorRows(color: color, alpha: nil), to: writer, options: options)
}
