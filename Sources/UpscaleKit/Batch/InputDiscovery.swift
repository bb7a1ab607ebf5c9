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
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
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
        let fm = FileManager.default
        let excluded = Set(excluding.compactMap(realPath))
        var inputs: [BatchInput] = []
        var notes: [String] = []
        var sawFolder = false
        var errors: [BatchError] = []
        for argument in arguments {
            if argument == "-" {
                inputs.append(BatchInput(path: "-", relativePath: "-", fromFolder: false))
                continue
            }
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                errors.append(BatchError(path: argument, message: "no such file or folder; check the path."))
                continue
            }
            if isDirectory.boolValue {
                sawFolder = true
                var visited = Set<String>()
                do {
                    try walk(folder: argument, relative: "", recursive: recursive, excluded: excluded,
                             visited: &visited, inputs: &inputs, notes: &notes)
                } catch let error as BatchError {
                    errors.append(error)
                } catch {
                    errors.append(BatchError(path: argument, message: "\(error)"))
                }
            } else {
                inputs.append(BatchInput(path: argument, relativePath: (argument as NSString).lastPathComponent,
                                         fromFolder: false))
            }
        }
        // One file named twice (`a.png ./a.png`, a folder and a file in it) is read once: the
        // first name in byte order stands for it.
        inputs.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var seenPaths = Set<String>()
        var seenFiles: [FileIdentity: String] = [:]
        inputs = inputs.filter { input in
            guard seenPaths.insert(input.path).inserted else { return false }
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

    private static func walk(folder: String, relative: String, recursive: Bool, excluded: Set<String>,
                             visited: inout Set<String>, inputs: inout [BatchInput], notes: inout [String]) throws {
        guard let real = realPath(folder) else {
            notes.append("\(folder): skipped, cannot resolve the folder.")
            return
        }
        // The output folder is passed over when met inside an input folder; named as the input
        // itself, it is read (its outputs then collide with their inputs and are refused).
        if !relative.isEmpty && excluded.contains(real) {
            notes.append("\(folder): skipped, it is the output folder.")
            return
        }
        guard visited.insert(real).inserted else {
            notes.append("\(folder): skipped, already visited (symbolic link loop).")
            return
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw BatchError(path: folder, message: "cannot list the folder; check its permissions.")
        }
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let path = (folder as NSString).appendingPathComponent(name)
            if name.hasPrefix(".") {  // hidden files, our own temporary files among them
                notes.append("\(path): skipped, hidden (the name starts with a dot).")
                continue
            }
            let rel = relative.isEmpty ? name : relative + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                notes.append("\(path): skipped, broken symbolic link.")
                continue
            }
            if isDirectory.boolValue {
                if recursive {
                    try walk(folder: path, relative: rel, recursive: recursive, excluded: excluded,
                             visited: &visited, inputs: &inputs, notes: &notes)
                } else {
                    notes.append("\(path): skipped folder; pass -r to walk subfolders.")
                }
            } else if isImageName(name) {
                inputs.append(BatchInput(path: path, relativePath: rel, fromFolder: true))
            } else {
                notes.append("\(path): skipped, not a .png, .jpg or .jpeg file.")
            }
        }
    }

    /// The canonical absolute path with symbolic links resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
