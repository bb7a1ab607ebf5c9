// ncnn's `.param` text: the layer list of a network (ncnn wiki, "param and model file structure").
//
//   7767517                                  magic
//   LAYERS BLOBS                             counts
//   Type Name NB NT bottom… top… key=value…  one line per layer: NB input blobs, NT output blobs
//
// A value is an integer or a float (written with '.', 'e' or 'E'); a key K ≤ −23300 holds an
// array for parameter id −K − 23300, written `K=count,v1,…,vcount`. Nothing here knows what a
// layer means: NCNNImport.swift does.

import Foundation

/// One parameter value: a number or an array of numbers, as written.
enum NCNNValue: Equatable {
    case int(Int)
    case float(Double)
    case array([Double])
}

/// One layer line of a `.param` file.
struct NCNNLayerLine {
    var type: String
    var name: String
    var bottoms: [String]
    var tops: [String]
    var params: [Int: NCNNValue]
    var lineNumber: Int
}

enum NCNNParam {
    static let magic = "7767517"
    static let maxLayers = 4096
    static let maxBlobsPerLayer = 64
    static let maxArray = 4096

    /// The layer lines of a `.param` text; `source` names the file in errors.
    static func parse(_ text: String, source: String) throws -> [NCNNLayerLine] {
        func fail(_ line: Int, _ what: String) -> ImportError { ImportError(.syntax, "\(source):\(line): \(what)") }
        // "\r\n" (a file saved on Windows) is one Character in Swift, equal to neither "\n" nor "\r".
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .enumerated().map { (number: $0.offset + 1, tokens: $0.element.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)) }
            .filter { !$0.tokens.isEmpty }
        guard let first = lines.first, first.tokens == [magic] else {
            throw fail(lines.first?.number ?? 1, "the file does not start with ncnn's magic number \(magic) (not an ncnn .param text file; binary .param.bin files are not supported)")
        }
        guard lines.count >= 2, lines[1].tokens.count == 2, let layerCount = Int(lines[1].tokens[0]),
              let blobCount = Int(lines[1].tokens[1]), layerCount >= 0, blobCount >= 0 else {
            throw fail(lines.count >= 2 ? lines[1].number : 2, "the second line must hold two counts: layers and blobs")
        }
        guard layerCount <= maxLayers else { throw fail(lines[1].number, "\(layerCount) layers is more than the limit of \(maxLayers)") }
        let layerLines = lines.dropFirst(2)
        guard layerLines.count == layerCount else {
            throw fail(lines[1].number, "the header announces \(layerCount) layers but the file has \(layerLines.count) layer lines")
        }
        return try layerLines.map { line in
            let t = line.tokens
            guard t.count >= 4, let nb = Int(t[2]), let nt = Int(t[3]),
                  (0...maxBlobsPerLayer).contains(nb), (0...maxBlobsPerLayer).contains(nt), t.count >= 4 + nb + nt else {
                throw fail(line.number, "a layer line is `Type Name inputs outputs bottom… top… key=value…`; this one is not")
            }
            var params: [Int: NCNNValue] = [:]
            for token in t[(4 + nb + nt)...] {
                let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let key = Int(parts[0]) else {
                    throw fail(line.number, "layer \(t[1]): \"\(token)\" is not key=value")
                }
                let id = key <= -23300 ? -key - 23300 : key
                guard params[id] == nil else { throw fail(line.number, "layer \(t[1]): parameter \(id) is given twice") }
                if key <= -23300 {
                    let items = parts[1].split(separator: ",", omittingEmptySubsequences: false)
                    guard let count = Int(items[0]), count >= 0, count <= maxArray, items.count == count + 1 else {
                        throw fail(line.number, "layer \(t[1]): array parameter \(id) \"\(parts[1])\" is not count,v1,…,vcount")
                    }
                    let values = try items.dropFirst().map { item -> Double in
                        guard let v = Double(item), v.isFinite else { throw fail(line.number, "layer \(t[1]): \"\(item)\" in parameter \(id) is not a number") }
                        return v
                    }
                    params[id] = .array(values)
                } else if let v = Int(parts[1]) {
                    params[id] = .int(v)
                } else if let v = Double(parts[1]), v.isFinite {
                    params[id] = .float(v)
                } else {
                    throw fail(line.number, "layer \(t[1]): parameter \(id) value \"\(parts[1])\" is not a number")
                }
            }
            return NCNNLayerLine(type: t[0], name: t[1], bottoms: Array(t[4..<(4 + nb)]),
                                 tops: Array(t[(4 + nb)..<(4 + nb + nt)]), params: params, lineNumber: line.number)
        }
    }
}
