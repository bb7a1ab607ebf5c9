import ArgumentParser
import Foundation
import UpscaleKit
import UpscaleModels

/// `upscale [run] INPUT... [-o OUTPUT]`: the default subcommand.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Upscale image files and folders (the default subcommand).",
        discussion: """
        One file is written to -o FILE, or beside the input as NAME_x2.EXT. Several inputs or a \
        folder are written into the folder -o names, keeping their names (and, with -r, their \
        subfolders). Existing outputs are refused unless --overwrite or --skip-existing is given.

        Examples:
          upscale photo.png                       writes photo_x2.png
          upscale photo.jpg -m x4 -o big.png      4x, written as PNG
          upscale a.png b.jpg -o out/             into out/a.png, out/b.jpg
          upscale photos/ -r -o out/ --skip-existing
          upscale photos/ -o out/ --shard 2/4 --json > part2.json
          upscale - -f png < small.png > big.png
          upscale photo.jpg --width 3000 -o big.webp
                                                  3000 px wide: the smallest model
                                                  reaching it, then Lanczos-resized
          upscale art.png -m x4 --outscale 2      the x4 model, resized to x2
        """
    )

    @Argument(help: ArgumentHelp("Image files (.png, .jpg, .jpeg, .webp) or folders; - reads one image from stdin.",
                                 valueName: "input"))
    var inputs: [String] = []

    @OptionGroup(title: "Model") var model: ModelOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Size") var size: SizeOptions
    @OptionGroup(title: "Input") var input: InputOptions
    @OptionGroup(title: "Engine") var engine: EngineOptions
    @OptionGroup(title: "Reporting") var reporting: ReportOptions

    func validate() throws {
        // No input is refused in run(): ArgumentParser validates before it reports an unknown
        // option, so `upscale --bogus` would hear about its missing input rather than the option.
        let imageOnStdout = output.output == "-" || (inputs == ["-"] && output.output == nil)
        if reporting.json && imageOnStdout {
            throw ValidationError(
                "--json and the upscaled image would both write to stdout; write the image to a file with -o FILE.")
        }
        if inputs.filter({ $0 == "-" }).count > 0 && inputs.count > 1 {
            throw ValidationError("Stdin (-) can only be read on its own; pass it as the only input.")
        }
    }

    func run() throws {
        if inputs.isEmpty {
            StandardError.write("Error: Give at least one input file or folder, or - to read stdin.\n"
                                + "Usage: upscale run [<options>] [<input> ...]\n  See 'upscale run --help' for more information.\n")
            throw ExitCode.validationFailure
        }
        let console = Console(level: reporting.quiet ? .quiet : reporting.verbose ? .verbose : .normal)
        Interruption.install()
        ProcessMemory.keepFreedMemory()
        let started = Date()
        // The run needs the plans, not the weights as loaded (67 MB of RRDBNet 23's): the model as
        // loaded is let go here, before any image is read.
        let (source, net) = try { () throws -> (ModelSource, Model) in
            let (source, loaded) = try model.load(console, threads: engine.threads ?? Threading.coreCount)
            return (source, try loaded.withoutSourceWeights())
        }()
        let choice = ModelChoice(size: size.outputSize, pinned: model.model != nil || model.scale != nil,
                                 denoise: model.denoise, loaded: net)
        if case .factor(let factor)? = size.outputSize, let largest = choice.largestScale, factor > Double(largest) {
            console.error("--outscale \(factor) needs a model of scale \(factor) or more; the largest built-in model is "
                          + "x\(largest). Pass -m with a larger model, or a smaller factor.")
            throw ExitCode.validationFailure
        }
        let (jobs, failedArguments) = try planJobs(scale: net.scale, console)
        let (reports, interrupted) = runJobs(jobs, model: choice, started: started, console)
        let report = BatchReport(model: source.displayName, scale: net.scale, shard: input.parsedShard?.description,
                                 interrupted: interrupted, files: failedArguments + reports,
                                 seconds: Date().timeIntervalSince(started))
        try finish(report, console)
    }

    /// Finds the inputs, names every output, takes this run's shard. Arguments that could not be
    /// used come back as failed reports; a plan that cannot work at all is a usage error.
    private func planJobs(scale: Int, _ console: Console) throws -> ([BatchJob], [FileReport]) {
        let found = InputDiscovery.discover(inputs, recursive: input.recursive,
                                            excluding: output.output.map { [$0] } ?? [])
        found.notes.forEach(console.detail)
        found.errors.forEach { console.error($0.description) }
        let planner = OutputPlanner(scale: scale, nameTag: size.outputSize?.nameTag, outputArgument: output.output,
                                    format: output.formatName, existing: output.existingPolicy)
        var jobs: [BatchJob]
        do {
            jobs = try planner.plan(found.inputs, batch: OutputPlanner.isBatch(
                inputCount: found.inputs.count + found.errors.count, sawFolder: found.sawFolder))
        } catch {
            console.error(describe(error, path: ""))
            throw ExitCode.validationFailure
        }
        if let shard = input.parsedShard {
            jobs = shard.select(jobs)
            console.detail("shard \(shard): \(jobs.count) of \(found.inputs.count) inputs")
        }
        if let quality = output.quality, jobs.contains(where: { $0.format == .png }) {
            console.detail("note: -q \(quality) is the JPEG quality; PNG outputs are lossless and ignore it.")
        }
        if found.inputs.isEmpty && found.errors.isEmpty {
            console.info("No .png, .jpg, .jpeg or .webp files found in \(inputs.joined(separator: ", ")); nothing to do.")
        }
        let failed = found.errors.map { FileReport(input: $0.path, output: "", status: .failed, message: $0.description) }
        return (jobs, failed)
    }

    /// Runs every job in order, going on after failures; stops starting new ones once interrupted.
    private func runJobs(_ jobs: [BatchJob], model choice: ModelChoice, started: Date,
                         _ console: Console) -> ([FileReport], interrupted: Bool) {
        let settings = upscaleSettings()
        if !reporting.dryRun { removeStaleTemporaries(besides: jobs, console) }
        var reports: [FileReport] = []
        var interrupted = false
        var hintsGiven = Set<String>()
        for (k, job) in jobs.enumerated() {
            var report = FileReport(input: job.input.path, output: job.output, status: .done)
            if interrupted || Interruption.isCancelled {
                interrupted = true
                report.status = .cancelled
                report.message = "not started: the run was interrupted."
            } else if let refusal = job.refusal {
                report.status = .failed
                report.message = refusal.description
                // A hint shared by many refusals (`upscale big -o big`) is given with the first only.
                if let hint = refusal.hint, !hintsGiven.insert(hint).inserted {
                    console.error(refusal.problem)
                } else {
                    console.error(refusal.description)
                }
            } else if job.skip {
                report.status = .skipped
                report.message = "\(job.output) already exists (--skip-existing)."
                console.detail("skipped \(job.input.path): \(job.output) exists")
            } else if reporting.dryRun {
                // Only the signature is read (8 bytes), so that a GIF or a text file is refused
                // here as it would be by the run.
                do {
                    if !job.input.isStdin { _ = try ImageCodec.sniffFormat(path: job.input.path) }
                    report.status = .planned
                    if !reporting.json { print(TerminalText.escape(job.input.path) + "\t" + TerminalText.escape(job.output)) }
                } catch {
                    report.status = .failed
                    report.message = describe(error, path: job.input.path) + "."
                    console.error(report.message ?? "")
                }
            } else {
                let name = job.input.isStdin ? "stdin" : job.input.relativePath
                func state(_ p: FileProgress) -> ProgressState {
                    ProgressState(fileIndex: k, fileCount: jobs.count, fileName: name, tilesDone: p.tilesDone,
                                  tilesTotal: p.tilesTotal, elapsed: Date().timeIntervalSince(started),
                                  rowsDone: p.rowsDone, rowsTotal: p.rowsTotal)
                }
                console.progress(state(FileProgress()), force: console.isTerminal)
                let fileStart = Date()
                do {
                    var stdin: ImageBytes?   // read once: the model choice may probe it before the job reads it
                    let readStdin = { (limit: Int) throws -> ImageBytes in
                        if let stdin { return stdin }
                        stdin = try StandardInput.readImage(limit: limit)
                        return stdin!
                    }
                    let net = try choice.model(for: job.input.path) {
                        let decode = settings.decodeOptions
                        return try ImageCodec.probe(job.input.isStdin ? .bytes(readStdin(decode.maxMemory), name: "stdin")
                                                                      : .file(job.input.path), options: decode)
                    }
                    if size.outputSize != nil { console.detail("\(job.input.path): model x\(net.scale)") }
                    let file = try FileJob(job, model: net, settings: settings)
                        .run(standardInput: readStdin, standardOutput: StandardOutput.write,
                             progress: { console.progress(state($0)) }, isCancelled: { Interruption.isCancelled })
                    report.record(file)
                    if let change = size.outputSize?.aspectChange(width: file.inputWidth, height: file.inputHeight),
                       change > 0.01 {
                        console.info("warning: \(job.input.path): \(file.outputWidth)×\(file.outputHeight) changes the "
                                     + "\(file.inputWidth)×\(file.inputHeight) image's aspect ratio by "
                                     + "\(Int((change * 100).rounded()))%; pass only --width or --height to keep it.")
                    }
                    report.seconds = Date().timeIntervalSince(fileStart)
                    let line = "done \(job.input.path) -> \(job.output) (\(BatchReport.formatSeconds(report.seconds)))"
                    if console.isTerminal { console.detail(line) } else { console.info(line) }
                    // The streamed run's work (Pipeline/: a graph model, or a stack streamed as its chain), in --verbose.
                    if let graph = net.streamGraph(width: file.inputWidth, tta: settings.tta) {
                        let work = graph.pipelineWork(height: file.inputHeight, width: file.inputWidth).factor
                        console.detail("\(job.input.path): streamed run, work \(String(format: "%.3f", work))× one whole-image pass"
                                       + (settings.tta ? " per flip (8 flips, --tta)" : "")
                                       + " (each convolution's rows computed ÷ its rows in one pass)")
                    }
                    // What the output left out or changed (EXIF too large for JPEG, alpha composited)
                    // is said; the codec libraries' own warnings (libpng's "known incorrect sRGB
                    // profile" on common ICC profiles, which it writes anyway) only with --verbose,
                    // and always in --json.
                    for note in file.notes {
                        let line = "note: \(job.output): \(note.text)"
                        if note.kind == .libraryWarning { console.detail(line) } else { console.info(line) }
                    }
                } catch {
                    report.seconds = Date().timeIntervalSince(fileStart)
                    if error is CancellationError || Interruption.isCancelled {
                        interrupted = true
                        report.status = .cancelled
                        report.message = "interrupted; no output was written."
                    } else if output.skipExisting, let error = error as? ImageIOError, case .outputExists = error.kind {
                        // Another run (a second shard, a concurrent resume) wrote it since the plan.
                        report.status = .skipped
                        report.message = "\(job.output) was created meanwhile by another process (--skip-existing)."
                        console.detail("skipped \(job.input.path): \(job.output) was created meanwhile by another process")
                    } else {
                        report.status = .failed
                        report.message = explain(error, job: job, inputCount: jobs.count)
                        console.error(report.message ?? "")
                    }
                }
            }
            reports.append(report)
        }
        console.finishProgress()
        if interrupted { AtomicFile.removeAllInFlight() }
        return (reports, interrupted)
    }

    /// The options of every file of this run, from the option groups.
    private func upscaleSettings() -> UpscaleSettings {
        var settings = UpscaleSettings(threads: engine.threads ?? Threading.coreCount)
        settings.tileSize = engine.tile
        settings.tta = engine.tta
        settings.applyOrientation = !input.noOrient
        settings.maxPixels = input.maxPixels
        settings.maxMemory = engine.maxMemoryBytes
        settings.jpegQuality = output.quality ?? 95
        settings.webpQuality = output.quality ?? WebPRowWriter.defaultQuality
        settings.webpLossless = output.lossless
        settings.outputSize = size.outputSize
        settings.pngLevel = output.pngLevel
        settings.overwrite = output.overwrite
        settings.background = output.backgroundColor
        return settings
    }

    /// Prints the JSON report and the summary, and turns the outcome into the exit status.
    private func finish(_ report: BatchReport, _ console: Console) throws {
        if reporting.json { print(try report.json(), terminator: "") }
        if !reporting.dryRun || reporting.verbose { console.info(report.summary) }
        if report.interrupted {
            console.error("interrupted; finished outputs are kept, unfinished ones removed. Rerun with --skip-existing to resume.")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    /// An argument before `--` that starts with one dash but looks like a file name (`-photo.png`,
    /// or an existing file): ArgumentParser would take it for short options (`-p -h -o …`, and
    /// `-h` prints the help and exits 0).
    static func dashedFileName(in arguments: [String]) -> String? {
        for argument in arguments {
            if argument == "--" { return nil }
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), argument.count > 2 else { continue }
            if argument.contains(".") || argument.contains("/") || FileSystem.exists(argument) {
                return argument
            }
        }
        return nil
    }

    /// Removes, in each folder this run writes into, the temporary files of upscale processes
    /// that no longer run (killed before they could clean up; see docs/cli.md).
    private func removeStaleTemporaries(besides jobs: [BatchJob], _ console: Console) {
        var folders = Set<String>()
        for job in jobs where job.refusal == nil && !job.skip && job.output != "-" {
            let folder = (job.output as NSString).deletingLastPathComponent
            folders.insert(folder.isEmpty ? "." : folder)
        }
        for folder in folders.sorted() {
            for name in AtomicFile.removeStaleTemporaries(in: folder) {
                console.detail("removed \((folder as NSString).appendingPathComponent(name)): "
                               + "a temporary file of an upscale process that no longer runs")
            }
        }
    }

    /// What to raise to get a larger memory budget, by what set the one a file was over (nil: the
    /// refusal names no budget, as stdin's whole-image buffer does).
    static func budgetAdvice(_ source: MemoryBudget.Source?) -> String {
        switch source {
        case .addressSpace:
            return "; raise that limit, or pass -t with a smaller tile size."
        case .option:
            return "; pass a larger --max-memory SIZE if the machine has the memory."
        case .physicalMemory, .controlGroup, .given:
            return "; raise it with --max-memory SIZE if the machine has the memory."
        case nil:
            return " (--max-memory SIZE; the default is half the physical memory, or less under a container's "
                + "limit or ulimit -v)."
        }
    }

    /// The message for a file that failed: the error, naming the file, and what to do about it.
    /// The advice goes by the error's kind and side (input or output), set where it was made.
    private func explain(_ error: Error, job: BatchJob, inputCount: Int) -> String {
        let text = describe(error, path: job.input.isStdin ? "stdin" : job.input.path)
        guard let error = error as? ImageIOError else { return sentence(text) }
        let others = inputCount > 1 ? " The other inputs were still processed." : ""
        switch error.kind {
        case .outputExists:
            return "\(job.output) appeared meanwhile: another process created it after this run checked that it "
                + "was free, and it was left as it is. Pass --overwrite to replace it, or --skip-existing to keep it."
        case .outputNotRegular:
            return "\(error.path) \(error.message)"
        case .unsupported, .cannotRead:
            return sentence(text) + others
        case .overPixelLimit:
            return text + " (pass --max-pixels N to raise the limit when the machine has the memory)."
        case .overMemoryBudget:
            return text + Self.budgetAdvice(error.budget?.source)
        case .other:
            switch error.side {
            case .output where job.output == "-":
                return sentence(text) + " Check that whatever reads stdout (a pipe, a file) is still there and has room."
            case .output:
                return sentence(text) + " Check that the output folder is writable and has free space, "
                    + "and that no file size limit (ulimit -f) is in the way."
            case .input:
                return sentence(text) + " Check that it is a complete PNG, JPEG or WebP file, or leave it out." + others
            }
        }
    }

    /// The error's message, naming the file: an `ImageIOError` or `BatchError` names its own, a
    /// `ModelError` names its file when it carries one (`ModelError.path`); any other is prefixed
    /// with `path`.
    private func describe(_ error: Error, path: String) -> String {
        switch error {
        case let error as ImageIOError: return error.description
        case let error as BatchError: return error.description
        default: return modelMessage(error, name: path)
        }
    }
}
