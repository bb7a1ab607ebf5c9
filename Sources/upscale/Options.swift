import ArgumentParser
import UpscaleKit

/// `-m`, `-s`: which weights to run.
struct ModelOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp(
        "A built-in model (x2, x3, x4) or a weights file; default x2.", valueName: "name|path"))
    var model: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Use the built-in model for this scale (2, 3 or 4).", valueName: "n"))
    var scale: Int?

    @Option(help: ArgumentHelp(
        "Use the built-in model trained for compressed, noisy photos at this level: 1 light, 2 medium, 3 strong "
        + "(JPEG quality about 80-95, 45-90, 25-75); 0 is the clean model. `upscale models` lists the levels "
        + "built in.", valueName: "0-3"))
    var denoise = 0

    func validate() throws {
        if let scale, ![1, 2, 3, 4].contains(scale) {
            throw ValidationError("The scale must be 1, 2, 3 or 4, not \(scale); pass -m PATH for another model.")
        }
        if scale == 1, denoise == 0 {
            throw ValidationError("-s 1 keeps the size, so it only denoises: add --denoise 1, 2 or 3.")
        }
        if !(0...3).contains(denoise) {
            throw ValidationError("--denoise must be 0, 1, 2 or 3, not \(denoise).")
        }
    }

    /// Which weights `-m`, `-s` and `--denoise` name, among `builtinNames` and the files on disk.
    func resolve(builtinNames: [String]) throws -> ModelSource {
        try ModelSource.resolve(model: model, scale: scale, denoise: denoise, builtinNames: builtinNames)
    }
}

/// `-o`, `-f`, `-q`, existing-output policy: where and how results are written.
struct OutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp(
        "The output file for one input, or the output folder for several (created if missing); - is stdout.",
        valueName: "path"))
    var output: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "The output format, png or jpg; default the output's extension, else the input's.", valueName: "png|jpg"))
    var format: String?

    @Option(name: [.short, .long], help: ArgumentHelp("JPEG quality from 1 to 100 (default 95).", valueName: "1-100"))
    var quality: Int?   // nil: 95; set, it is noted under --verbose that PNG outputs ignore it

    @Option(name: .customLong("png-level"), help: ArgumentHelp(
        "Compress PNG outputs with zlib at this level (0-9); 6-9 give the smallest files, slower; default: upscale's fast encoder.",
        valueName: "0-9"))
    var pngLevel: Int?

    @Option(help: ArgumentHelp(
        "What JPEG outputs show under transparent pixels: white, black, #rrggbb or #rgb (default white).",
        valueName: "color"))
    var background: String?

    /// `--background` parsed; white when not given.
    var backgroundColor: Background { background.flatMap(Background.init(parsing:)) ?? .white }

    @Flag(help: "Replace outputs that already exist.")
    var overwrite = false

    @Flag(help: "Leave inputs whose output already exists alone (resumes a stopped batch).")
    var skipExisting = false

    var formatName: ImageFormat? { format.flatMap(ImageFormat.init(pathExtension:)) }

    var existingPolicy: ExistingOutputPolicy { overwrite ? .overwrite : skipExisting ? .skip : .refuse }

    func validate() throws {
        if output?.isEmpty == true {
            throw ValidationError("-o is empty; pass -o FILE, -o FOLDER/ or -o - for stdout.")
        }
        if let format, ImageFormat(pathExtension: format) == nil {
            throw ValidationError("The format must be png or jpg, not '\(format)'.")
        }
        if let quality, !(1...100).contains(quality) {
            throw ValidationError("The JPEG quality must be between 1 and 100, not \(quality).")
        }
        if let pngLevel, !(0...9).contains(pngLevel) {
            throw ValidationError("The PNG level must be between 0 and 9, not \(pngLevel).")
        }
        if let background, Background(parsing: background) == nil {
            throw ValidationError("The background must be white, black, #rrggbb or #rgb, not '\(background)'.")
        }
        if overwrite && skipExisting {
            throw ValidationError("Pass either --overwrite or --skip-existing, not both.")
        }
    }
}

/// `-t`, `-j`, `--tta`: how the engine runs.
struct EngineOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .long], help: ArgumentHelp(
        "The tile edge in input pixels; smaller tiles use less memory (default 256, larger for deep models).", valueName: "n"))
    var tile: Int?

    @Option(name: [.customShort("j"), .long], help: ArgumentHelp(
        "The number of worker threads (default: all cores).", valueName: "n"))
    var threads: Int?

    @Flag(help: "Average 8 flipped and rotated runs: slightly better, 8 times slower.")
    var tta = false

    @Option(name: .customLong("max-memory"), help: ArgumentHelp(
        "Refuse inputs whose upscale would hold more memory than this, e.g. 512M, 4G or bytes (default: half the physical memory).",
        valueName: "size"))
    var maxMemory: String?

    /// `--max-memory` in bytes, or nil for the default.
    var maxMemoryBytes: Int? { maxMemory.flatMap(MemoryBudget.parse) }

    func validate() throws {
        if let maxMemory, MemoryBudget.parse(maxMemory) == nil {
            throw ValidationError("--max-memory takes a size such as 512M, 4G or a number of bytes, not '\(maxMemory)'.")
        }
        if let tile, tile < 16 {
            throw ValidationError("The tile size must be at least 16 pixels, not \(tile).")
        }
        if let threads, threads < 1 {
            throw ValidationError("The number of threads must be at least 1, not \(threads).")
        }
    }
}

/// `-r`, `--no-orient`, `--max-pixels`, `--shard`: which inputs, and how they are read.
struct InputOptions: ParsableArguments {
    @Flag(name: [.short, .long], help: "Walk subfolders of folder inputs and mirror them in the output folder.")
    var recursive = false

    @Flag(name: .customLong("no-orient"), help: "Ignore the EXIF orientation of JPEG inputs.")
    var noOrient = false

    @Option(help: ArgumentHelp("Refuse inputs with more pixels than this (default 1073741824).", valueName: "n"))
    var maxPixels: Int?

    @Option(help: ArgumentHelp(
        "Process only part I of N of the sorted input list, 1 <= I <= N (for job arrays).", valueName: "I/N"))
    var shard: String?

    var parsedShard: Shard? { shard.flatMap { try? Shard(parsing: $0) } }

    func validate() throws {
        if let maxPixels, maxPixels < 1 {
            throw ValidationError("--max-pixels must be at least 1, not \(maxPixels).")
        }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch let error as BatchError {
                throw ValidationError(Self.sentence(error.message))
            }
        }
    }

    static func sentence(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }
}

/// `--quiet`, `--verbose`, `--json`: what is said, and where.
struct ReportOptions: ParsableArguments {
    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    @Flag(name: .long, help: "Print skipped files, the model, and one line per file.")
    var verbose = false

    @Flag(name: .long, help: "Print a JSON report of every file and the totals on stdout.")
    var json = false

    @Flag(name: .long, help: "Print the planned input and output paths and exit without reading any image.")
    var dryRun = false

    func validate() throws {
        if quiet && verbose {
            throw ValidationError("Pass either --quiet or --verbose, not both.")
        }
    }
}
