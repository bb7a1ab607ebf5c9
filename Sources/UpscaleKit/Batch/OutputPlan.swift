import Foundation

extension ImageFormat {
    /// The extension given to outputs written in this format.
    public var preferredExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .webp: "webp"
        }
    }
}

/// What to do when an output file is already there.
public enum ExistingOutputPolicy: String, Sendable {
    case refuse, overwrite, skip
}

/// Why planning refused a job, with the words for the user.
public struct Refusal: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The output's file name is longer than a file name may be.
        case nameTooLong
        /// The output path is a folder.
        case outputIsFolder
        /// The output path holds a device node, a FIFO, a socket or a symbolic link.
        case outputNotRegular
        /// The output is an input of the run (the same file).
        case outputIsInput
        /// The output exists, and neither `--overwrite` nor `--skip-existing` was given.
        case outputExists
        /// Several inputs of the run would write this output.
        case sharedOutput
    }

    public var kind: Kind
    /// The problem, naming the files.
    public var problem: String
    /// Advice that many jobs of a run share ("Pass -o to write somewhere else."), so that it
    /// can be given once; nil when the problem says what to do itself.
    public var hint: String?

    public init(_ kind: Kind, _ problem: String, hint: String? = nil) {
        (self.kind, self.problem, self.hint) = (kind, problem, hint)
    }

    public var description: String { hint.map { problem + " " + $0 } ?? problem }
}

/// One planned unit of work: read `input`, write `output` (a path, or `-` for stdout).
public struct BatchJob: Sendable, Equatable {
    public var input: BatchInput
    public var output: String
    /// The format to write; nil means "the input's format" (known only after reading stdin).
    public var format: ImageFormat?
    /// Set when planning already knows this job must not run.
    public var refusal: Refusal?
    /// Set when the output exists and `--skip-existing` was given.
    public var skip: Bool

    public init(input: BatchInput, output: String, format: ImageFormat?, refusal: Refusal? = nil, skip: Bool = false) {
        self.input = input
        self.output = output
        self.format = format
        self.refusal = refusal
        self.skip = skip
    }
}

/// Decides every output path of a run, before any pixel is read.
///
/// Naming rules (see docs/cli.md):
/// - One file input, no `-o`: `<dir>/<name>_<tag>.<ext>` beside the input; the tag is `x<scale>`,
///   or with an output size request what was asked (`OutputSize.nameTag`: `w3000`, `x1.5`).
/// - One file input, `-o FILE`: that file; `-o` naming an existing folder puts the default name in it.
/// - Several inputs or any folder input, `-o FOLDER`: `FOLDER/<relative path>` with the input's name,
///   the extension replaced when `-f` asks for another format; folder inputs are mirrored below it.
/// - Several file inputs, no `-o`: each beside its input with the default name. Folder inputs need `-o`.
/// - Format: `-f`, else the output's extension (single file), else the input's.
/// - Two inputs mapping to one output (`a.jpg`, `a.png` with `-f png`) are both refused with a message
///   naming both; nothing is silently renamed.
/// - An output that is an input of the run (the same device and inode) is refused, with `--overwrite`
///   too: it would be replaced before, or instead of, being read. With `--skip-existing` it is skipped.
/// - An output path that is a folder, or whose name is longer than a file name may be, is refused.
/// - An output path that holds a device node, a FIFO, a socket or a symbolic link is refused
///   whatever the flags (`OutputPathState`): only regular files are written or replaced.
public struct OutputPlanner: Sendable {
    public var scale: Int
    /// What default names say after the input's stem: `x<scale>`, or an output size request's tag.
    public var nameTag: String
    public var outputArgument: String?
    public var format: ImageFormat?
    public var existing: ExistingOutputPolicy
    public var fileExists: @Sendable (String) -> Bool
    public var isDirectory: @Sendable (String) -> Bool
    public var identity: @Sendable (String) -> FileIdentity?
    public var pathState: @Sendable (String) -> OutputPathState

    /// The longest file name (one path component) Linux filesystems take, in bytes (NAME_MAX).
    public static let maxNameBytes = 255

    public init(scale: Int, nameTag: String? = nil, outputArgument: String?, format: ImageFormat?,
                existing: ExistingOutputPolicy,
                fileExists: @escaping @Sendable (String) -> Bool = { FileSystem.exists($0) },
                isDirectory: @escaping @Sendable (String) -> Bool = { FileSystem.isFolder($0) },
                identity: @escaping @Sendable (String) -> FileIdentity? = { FileIdentity(path: $0) },
                pathState: @escaping @Sendable (String) -> OutputPathState = { OutputPathState.of($0) }) {
        self.scale = scale
        self.nameTag = nameTag ?? "x\(scale)"
        self.outputArgument = outputArgument
        self.format = format
        self.existing = existing
        self.fileExists = fileExists
        self.isDirectory = isDirectory
        self.identity = identity
        self.pathState = pathState
    }

    /// True when `-o` is (or will be) a folder: several inputs, or a folder among the arguments.
    public static func isBatch(inputCount: Int, sawFolder: Bool) -> Bool {
        inputCount > 1 || sawFolder
    }

    /// The default output name `<name>_<tag>.<ext>` (`photo_x2.png`, `photo_w3000.png`).
    public func defaultName(for fileName: String) -> String {
        let stem = (fileName as NSString).deletingPathExtension
        return "\(stem)_\(nameTag).\(extensionFor(inputName: fileName))"
    }

    private func extensionFor(inputName: String) -> String {
        if let format { return format.preferredExtension }
        let ext = (inputName as NSString).pathExtension
        return ext.isEmpty ? "png" : ext
    }

    public func plan(_ inputs: [BatchInput], batch: Bool) throws -> [BatchJob] {
        var jobs = try batch ? planBatch(inputs) : inputs.map(planSingle)
        markCollisions(&jobs)
        var inputNamed: [FileIdentity: String] = [:]  // every input of the run, by the file it is
        for input in inputs where !input.isStdin {
            if let id = identity(input.path), inputNamed[id] == nil { inputNamed[id] = input.path }
        }
        for k in jobs.indices where jobs[k].refusal == nil && jobs[k].output != "-" {
            let output = jobs[k].output
            let name = (output as NSString).lastPathComponent
            if name.pathBytes.count > Self.maxNameBytes {
                jobs[k].refusal = Refusal(.nameTooLong, "\(output): the file name is \(name.pathBytes.count) bytes long, more than the "
                    + "\(Self.maxNameBytes) a file name may have; pass -o with a shorter name.")
                continue
            }
            if isDirectory(output) {
                jobs[k].refusal = Refusal(.outputIsFolder, "\(output) is a folder, so the output file cannot be written there; "
                    + "rename or remove the folder, or pass -o to write somewhere else.")
                continue
            }
            if case .refused(let why) = pathState(output) {
                jobs[k].refusal = Refusal(.outputNotRegular, "\(output) \(why)")
                continue
            }
            guard fileExists(output) else { continue }
            if let id = identity(output), let input = inputNamed[id] {
                if !jobs[k].input.isStdin, identity(jobs[k].input.path) == id {
                    jobs[k].refusal = Refusal(.outputIsInput, "\(output) is the input itself.", hint: "Pass -o to write somewhere else.")
                    continue
                }
                if existing != .skip {
                    let which = input == output ? "also an input of this run" : "the input \(input) under another name"
                    jobs[k].refusal = Refusal(.outputIsInput, "\(output), the output of \(jobs[k].input.path), is \(which); writing it would "
                        + "replace that input before it is read.", hint: "Pass -o to write the outputs elsewhere.")
                    continue
                }
            }
            switch existing {
            case .overwrite: break
            case .skip: jobs[k].skip = true
            case .refuse:
                jobs[k].refusal = Refusal(.outputExists, "\(output) already exists.",
                               hint: "Pass --overwrite to replace it or --skip-existing to keep it.")
            }
        }
        return jobs
    }

    private func planSingle(_ input: BatchInput) throws -> BatchJob {
        if input.isStdin {
            if let out = outputArgument, out != "-", isDirectory(out) || out.hasSuffix("/") {
                throw BatchError(path: out, message: "names a folder, and an image read from stdin has no name to put "
                    + "inside it; pass -o FILE, for example -o \((out as NSString).appendingPathComponent("big.png")).", kind: .output)
            }
            return BatchJob(input: input, output: outputArgument ?? "-", format: format ?? outputArgument.flatMap {
                ImageFormat(pathExtension: ($0 as NSString).pathExtension)
            })
        }
        guard let out = outputArgument else {
            let dir = (input.path as NSString).deletingLastPathComponent
            let name = defaultName(for: (input.path as NSString).lastPathComponent)
            return BatchJob(input: input, output: dir.isEmpty ? name : (dir as NSString).appendingPathComponent(name),
                            format: format ?? ImageFormat(pathExtension: (name as NSString).pathExtension))
        }
        if out == "-" {
            return BatchJob(input: input, output: "-",
                            format: format ?? ImageFormat(pathExtension: (input.path as NSString).pathExtension))
        }
        if isDirectory(out) || out.hasSuffix("/") {
            let name = defaultName(for: (input.path as NSString).lastPathComponent)
            return BatchJob(input: input, output: (out as NSString).appendingPathComponent(name),
                            format: format ?? ImageFormat(pathExtension: (name as NSString).pathExtension))
        }
        let outExt = (out as NSString).pathExtension
        if let format { return BatchJob(input: input, output: out, format: format) }
        if let fromOutput = ImageFormat(pathExtension: outExt) {
            return BatchJob(input: input, output: out, format: fromOutput)
        }
        if outExt.isEmpty, let fromInput = ImageFormat(pathExtension: (input.path as NSString).pathExtension) {
            return BatchJob(input: input, output: out, format: fromInput)
        }
        if outExt.isEmpty {
            throw BatchError(path: out, message: "has no extension, and the input's name does not tell its format "
                + "either; name the file .png or .jpg, or pass -f png|jpg.", kind: .output)
        }
        throw BatchError(path: out, message: "cannot tell the output format from the extension '.\(outExt)'; name the file .png or .jpg, or pass -f png|jpg.", kind: .output)
    }

    private func planBatch(_ inputs: [BatchInput]) throws -> [BatchJob] {
        if inputs.contains(where: \.isStdin) {
            throw BatchError(path: "-", message: "stdin (-) can only be read on its own; pass it as the only input.", kind: .arguments)
        }
        if outputArgument == "-" {
            throw BatchError(path: "-", message: "several inputs cannot all be written to stdout; pass -o FOLDER.", kind: .output)
        }
        if let out = outputArgument, fileExists(out), !isDirectory(out) {
            throw BatchError(path: out, message: "is a file, but several inputs need an output folder; pass -o FOLDER.", kind: .output)
        }
        // A folder named like an image file is almost surely a mistake (`a.png b.png -o out.png`):
        // one is created only when asked for by a name without an image extension.
        if let out = outputArgument, !out.hasSuffix("/"), !fileExists(out), ImageFormat(path: out) != nil {
            throw BatchError(path: out, message: "names an image file, but several inputs need an output folder; "
                + "pass -o FOLDER with a name that does not end in .png, .jpg or .jpeg (or create the folder first).", kind: .output)
        }
        return try inputs.map { input in
            guard let out = outputArgument else {
                if input.fromFolder {
                    // Named by the folder given, not by the first file found in it.
                    let suffix = "/" + input.relativePath
                    let folder = input.path.hasSuffix(suffix) ? String(input.path.dropLast(suffix.count)) : input.path
                    throw BatchError(path: folder, message: "folder inputs need an output folder; pass -o FOLDER.", kind: .output)
                }
                return try planSingle(input)
            }
            let rel = input.relativePath
            var target = rel
            if let format {
                target = (rel as NSString).deletingPathExtension + "." + format.preferredExtension
            }
            return BatchJob(input: input, output: (out as NSString).appendingPathComponent(target),
                            format: format ?? ImageFormat(pathExtension: (rel as NSString).pathExtension))
        }
    }

    /// Refuses every job whose output path another job also writes.
    private func markCollisions(_ jobs: inout [BatchJob]) {
        var byOutput: [[UInt8]: [Int]] = [:]  // bytes: String `==` takes `é` and `e` + U+0301 for one path
        for (k, job) in jobs.enumerated() where job.output != "-" {
            byOutput[(job.output as NSString).standardizingPath.pathBytes, default: []].append(k)
        }
        for (outputBytes, indices) in byOutput where indices.count > 1 {
            let output = String(pathBytes: outputBytes)
            let names = indices.map { jobs[$0].input.path }.joined(separator: ", ")
            for k in indices {
                jobs[k].refusal = Refusal(.sharedOutput, "\(names) would all write \(output); rename one of them or run them separately.")
            }
        }
    }
}
