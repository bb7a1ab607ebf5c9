// upscale-bench: micro-benchmarks of the engine (not tests; see benchmarks/README.md).
//
//   upscale-bench peak      this machine's FP32 FMA peak, on 1 and T threads
//   upscale-bench convt     conv_transpose2d on the issue-2 shape table (--serve: for torch_convt.py)
//   upscale-bench net       a model's whole stack through the tiled runner (--serve: for compare.py)
//   upscale-bench layers    each layer of a model alone, on tile-sized feature maps
//   upscale-bench kernels   the wide vs the narrow conv kernel on issue 17's layers, paired
//   upscale-bench pipeline  file → upscale → file against the network alone, in one process
//   upscale-bench encode    PNG encoders on one decoded image
import ArgumentParser
import UpscaleKit

@main
struct UpscaleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upscale-bench",
        abstract: "Time the engine's kernels, networks and pipeline.",
        subcommands: [PeakCommand.self, ConvTransposeCommand.self, NetworkCommand.self, LayerCommand.self,
                      KernelCommand.self, PipelineCommand.self, EncodeCommand.self]
    )

    static func main() {
        ProcessMemory.keepFreedMemory()   // as `upscale` does
        main(nil)
    }
}

/// `--threads` and `--reps`, as most subcommands take them.
struct ThreadsAndReps: ParsableArguments {
    @Option(help: "Worker threads.")
    var threads = 2

    @Option(help: "Timed runs, after one warm-up run.")
    var reps = 7

    func validate() throws {
        guard threads >= 1, reps >= 1 else { throw ValidationError("--threads and --reps must be positive integers.") }
    }
}

/// `--shape`, for the commands that time a table of layer shapes: one row instead of all of them.
struct ShapeChoice<Table: ShapeTable>: ParsableArguments {
    @Option(help: "Only this shape of the table (\(Table.names)).")
    var shape: String?

    func validate() throws {
        if let shape, !Table.table.contains(where: { $0.name == shape }) {
            throw ValidationError("Unknown shape \(shape); known: \(Table.names).")
        }
    }

    /// The rows to time: the one asked for, or the whole table.
    var shapes: [ConvTransposeShape] { Table.table.filter { shape == nil || $0.name == shape } }
}

/// A command's table of layer shapes, which `--shape` picks from.
protocol ShapeTable {
    static var table: [ConvTransposeShape] { get }
}

extension ShapeTable {
    static var names: String { table.map(\.name).joined(separator: ", ") }
}

/// `--reps`, for the commands that time steps against each other (`InterleavedSteps`).
struct InterleavedRounds: ParsableArguments {
    @Option(help: "Timed rounds, after one warm-up run of the first step.")
    var reps = 5

    func validate() throws {
        guard reps >= 1 else { throw ValidationError("--reps must be a positive integer.") }
    }
}

/// `--model` and `--tile`, for the commands that run a weights file through the tiled runner.
struct ModelAndTile: ParsableArguments {
    @Option(help: "The weights file.")
    var model: String

    @Option(help: "Input tile size (default: the CLI's for the model).")
    var tile: Int?

    /// `--tile`, else the CLI's default for `model`.
    func tileSize(for model: Model) -> Int { tile ?? model.defaultTileSize }
}

/// `HxW`, e.g. `1080x1920`.
struct ImageSize: ExpressibleByArgument {
    var height: Int
    var width: Int

    init?(argument: String) {
        let parts = argument.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { return nil }
        (height, width) = (parts[0], parts[1])
    }
}

/// A benchmark that cannot run as asked; the message says why.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
