import Foundation

/// One image the batch will read: where it is, and where it sits below the folder it was found in.
public struct BatchInput: Sendable, Equatable {
    /// The path as the user can read it (argument, or argument joined with the walked names); `-` is stdin.
    public var path: String
    /// The path below the input folder it was found in (`sub/a.png`), or the file name for a file argument.
    /// Outputs in an output folder mirror this.
    public var relativePath: String
    /// True when the input came from walking a folder argument.
    public var fromFolder: Bool

    public init(path: String, relativePath: String, fromFolder: Bool) {
        self.path = path
        self.relativePath = relativePath
        self.fromFolder = fromFolder
    }

    public var isStdin: Bool { path == "-" }
}

/// Errors that make the whole input list unusable (a missing argument, an unreadable folder).
public struct BatchError: Error, CustomStringConvertible, Equatable {
    /// Which part of the command line is at fault, for callers that react differently.
    public enum Kind: Sendable, Equatable {
        /// An input argument names nothing, or a folder cannot be listed.
        case input
        /// The output path does not fit the inputs (its format, several inputs to one file), or its
        /// folder cannot be created.
        case output
        /// Arguments that cannot go together (`-` with other inputs, a bad `--shard`).
        case arguments
    }

    public var path: String
    public var message: String
    public var kind: Kind
    public init(path: String, message: String, kind: Kind) {
        self.path = path
        self.message = message
        self.kind = kind
    }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Turns file and folder arguments into the sorted list of images a run will read.
///
/// Rules: file arguments are taken as given (whatever their extension: the decoder says if it cannot
/// read them); folders contribute their `.png`, `.jpg`, `.jpeg` files (any case), other files are
/// skipped with a note; `recursive` walks subfolders, following symbolic links but never entering a
/// folder twice (so link loops end); a folder listed in `excluding` (the run's output folder) is never
/// entered below an input folder, so a run never reads its own outputs. The result is sorted by path (byte order) with
/// duplicates removed (the same path, or the same file by device and inode under another name), so every
/// machine given the same arguments sees the same list.
public enum InputDiscovery {
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "webp"]

    public static func isImageName(_ name: String) -> Bool {
        imageExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    public struct Result: Sendable, Equatable {
        public var inputs: [BatchInput]
        /// One line per file or folder that was passed over, for `--verbose`.
        public var notes: [String]
        /// True when at least one argument was a folder.
        public var sawFolder: Bool
        /// Arguments that could not be used (missing, unreadable folder); the rest of the run goes on.
        public var errors: [BatchError]
    }

    public static func discover(_ arguments: [String], recursive: Bool, excluding: [String] = []) -> Result {
        let excluded = Set(excluding.compactMap(realPath).map(\.pathBytes))  // bytes: see the sort below
        var inputs: [BatchInput] = []
        var notes: [String] = []
        var sawFolder = false
        var errors: [BatchError] = []
        for argument in arguments {
            if argument == "-" {
                inputs.append(BatchInput(path: "-", relativePath: "-", fromFolder: false))
                continue
            }
            guard let status = FileSystem.status(argument) else {
                let message = FileSystem.status(argument, followingLinks: false) != nil
                    ? "a symbolic link to nothing (its target is missing); check the link."
                    : "no such file or folder; check the path."
                errors.append(BatchError(path: argument, message: message, kind: .input))
                continue
            }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                sawFolder = true
                var visited = Set<[UInt8]>()
                do {
                    try walk(folder: argument, relative: "", recursive: recursive, excluded: excluded,
                             visited: &visited, inputs: &inputs, notes: &notes)
                } catch let error as BatchError {
                    errors.append(error)
                } catch {
                    errors.append(BatchError(path: argument, message: "\(error)", kind: .input))
                }
            } else {
                inputs.append(BatchInput(path: argument, relativePath: (argument as NSString).lastPathComponent,
                                         fromFolder: false))
            }
        }
        // One file named twice (`a.png ./a.png`, a folder and a file in it) is read once: the
        // first name in byte order stands for it. Paths are compared as bytes: Swift's String `==`
        // takes `é` and `e` + U+0301 for one text, which are two files.
        inputs = inputs.map { (key: $0.path.pathBytes, input: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.input)
        var seenPaths = Set<[UInt8]>()
        var seenFiles: [FileIdentity: String] = [:]
        inputs = inputs.filter { input in
            guard seenPaths.insert(input.path.pathBytes).inserted else { return false }
            guard !input.isStdin, let identity = FileIdentity(path: input.path) else { return true }
            if let first = seenFiles[identity] {
                notes.append("\(input.path): skipped, the same file as \(first).")
                return false
            }
            seenFiles[identity] = input.path
            return true
        }
        return Result(inputs: inputs, notes: notes, sawFolder: sawFolder, errors: errors)
    }

    private static func walk(folder: String, relative: String, recursive: Bool, excluded: Set<[UInt8]>,
                             visited: inout Set<[UInt8]>, inputs: inout [BatchInput], notes: inout [String]) throws {
        guard let real = realPath(folder) else {
            notes.append("\(folder): skipped, cannot resolve the folder.")
            return
        }
        // The output folder is passed over when met inside an input folder; named as the input
        // itself, it is read (its outputs then collide with their inputs and are refused).
        if !relative.isEmpty && excluded.contains(real.pathBytes) {
            notes.append("\(folder): skipped, it is the output folder.")
            return
        }
        guard visited.insert(real.pathBytes).inserted else {
            notes.append("\(folder): skipped, already visited (symbolic link loop).")
            return
        }
        let names: [String]
        do {
            names = try FileSystem.names(inFolder: folder)
        } catch {
            throw BatchError(path: folder, message: "cannot list the folder; check its permissions.", kind: .input)
        }
        for name in names.map({ (key: $0.pathBytes, name: $0) }).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }).map(\.name) {
            let path = (folder as NSString).appendingPathComponent(name)
            if name.hasPrefix(".") {  // hidden files, our own temporary files among them
                notes.append("\(path): skipped, hidden (the name starts with a dot).")
                continue
            }
            let rel = relative.isEmpty ? name : relative + "/" + name
            guard let status = FileSystem.status(path) else {
                let isLink = FileSystem.status(path, followingLinks: false) != nil
                notes.append("\(path): skipped, " + (isLink ? "broken symbolic link." : "it is gone (removed meanwhile)."))
                continue
            }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                if recursive {
                    try walk(folder: path, relative: rel, recursive: recursive, excluded: excluded,
                             visited: &visited, inputs: &inputs, notes: &notes)
                } else {
                    notes.append("\(path): skipped folder; pass -r to walk subfolders.")
                }
            } else if isImageName(name) {
                inputs.append(BatchInput(path: path, relativePath: rel, fromFolder: true))
            } else {
                notes.append("\(path): skipped, not a .png, .jpg, .jpeg or .webp file.")
            }
        }
    }

    /// The canonical absolute path with symbolic links resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        FileSystem.realPath(path)
    }
}
