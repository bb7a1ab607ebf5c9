// Importing a PyTorch state dict (`.pth` through the restricted pickle reader, or `.safetensors`)
// whose architecture is recognised from its tensor names, as the Python tools (spandrel, chaiNNer)
// do it:
//
//   RRDBNet, new keys     conv_first.weight and body.0.rdb1.conv1.weight            → graph
//   RRDBNet, old keys     model.0.weight and model.1.sub.0.RDB1.conv1.0.weight      → graph
//   SPAN                  conv_1.{sk,eval_conv}.weight and block_1.c1_r.…           → graph
//   SRVGGNetCompact       body.0.weight (4-D) then body.1.weight (1-D, PReLU)       → stack
// Families recognised but not supported are refused by name (DAT, HAT, SwinIR, OmniSR,
// RealPLKSR, …); any other layout is refused with the keys each supported family starts with.
// waifu2x's upconv_7 and vgg_7 have no distinguishing names: `--arch` says so (PTHImport.swift).

import Foundation

/// What an import produced: a layer stack (the stack format) or a graph.
public enum ImportedModel {
    case stack(Model)
    case graph(GraphModel)

    /// The file's bytes in the matching format.
    public func serialized() throws -> [UInt8] {
        switch self {
        case .stack(let model): return try model.serialized()
        case .graph(let model): return try model.serialized()
        }
    }

    public var metadata: [String: String] {
        switch self {
        case .stack(let model): return model.metadata
        case .graph(let model): return model.metadata
        }
    }

    public var scale: Int {
        switch self {
        case .stack(let model): return model.scale
        case .graph(let model): return model.scale
        }
    }
}

/// The architecture a state dict's names belong to.
enum StateDictFamily: Equatable {
    case rrdbNew, rrdbOld, span, srvgg
    /// A published family upscale does not run, by its usual name.
    case unsupported(String)
    case unknown
}

extension ModelImport {
    /// Supported families as the refusals list them.
    static let supportedFamilies = "ESRGAN/RRDBNet (new and old key styles), SPAN, Real-ESRGAN SRVGGNetCompact, waifu2x upconv_7 and vgg_7 (--arch)"

    /// Recognises the family from the names alone (no shapes needed).
    static func family(of names: [String]) -> StateDictFamily {
        let set = Set(names)
        func any(_ part: String) -> Bool { names.contains { $0.contains(part) } }
        func anyPrefix(_ prefix: String) -> Bool { names.contains { $0.hasPrefix(prefix) } }
        if set.contains("conv_first.weight") && set.contains("body.0.rdb1.conv1.weight") { return .rrdbNew }
        if rrdbOldToNewKeys(names) != nil { return .rrdbOld }
        if (set.contains("conv_1.sk.weight") || set.contains("conv_1.eval_conv.weight")) && anyPrefix("block_1.c1_r.") { return .span }
        // Unsupported families, most specific first (HAT and DAT also have Swin-style attention).
        if any("overlap_attn") || any(".conv_block.cab.") { return .unsupported("HAT") }
        if anyPrefix("before_RG.") || any(".attn.attns.") { return .unsupported("DAT") }
        if any(".channe_mixer.") || (anyPrefix("feats.") && any(".lk.conv.")) { return .unsupported("RealPLKSR") }
        if anyPrefix("residual_layer.") && set.contains("input.weight") { return .unsupported("OmniSR") }
        if any("residual_group.blocks.") && any("relative_position") { return .unsupported("SwinIR (or Swin2SR, SRFormer)") }
        if anyPrefix("unet1.") && anyPrefix("unet2.") { return .unsupported("Real-CUGAN") }
        if any(".attn.") && any("relative_position") { return .unsupported("a Swin-transformer network") }
        if set.contains("body.0.weight") && set.contains("body.1.weight") && !set.contains("body.1.bias") { return .srvgg }
        return .unknown
    }

    /// Imports a `.pth` or `.safetensors` state dict, recognising its architecture from the names.
    /// - Throws: `ImportError` naming the file and, for a refused family, what it is and what is supported.
    public static func stateDictModel(path: String, options: ImportOptions = .init()) throws -> ImportedModel {
        let lower = path.lowercased()
        let tensors = lower.hasSuffix(".safetensors") ? try safetensorsStateDict(path: path) : try stateDict(path: path)
        let file = (path as NSString).lastPathComponent
        let names = tensors.map(\.name)
        var metadata: [String: String] = [:]
        metadata["name"] = options.name ?? ((file as NSString).deletingPathExtension)
        if let license = options.license { metadata["license"] = license }
        metadata["source"] = file
        metadata["description"] = "Imported by `upscale import` from \(file)."
        switch family(of: names) {
        case .rrdbNew:
            return .graph(try rrdbNet(StateDict(tensors, source: path, architecture: "RRDBNet"), metadata: metadata))
        case .rrdbOld:
            let map = rrdbOldToNewKeys(names) ?? [:]
            if let unmapped = names.first(where: { map[$0] == nil }) {
                throw ImportError(.architecture, "\(path): not a state dict of RRDBNet (old ESRGAN keys) as upscale reads it: unexpected tensor \(unmapped)")
            }
            let renamed = tensors.map { (name: map[$0.name]!, tensor: $0.tensor) }
            return .graph(try rrdbNet(StateDict(renamed, source: path, architecture: "RRDBNet (old ESRGAN keys)"), metadata: metadata))
        case .span:
            return .graph(try span(StateDict(tensors, source: path, architecture: "SPAN"), metadata: metadata))
        case .srvgg:
            let network = try PTHNetwork.network(tensors, architecture: .srvgg, source: path)
            return .stack(try assemble(network, files: [file], stem: file, options: options, source: path,
                                       architecture: PTHArchitecture.srvgg.publishedName))
        case .unsupported(let family):
            throw ImportError(.unsupported, "\(path): a \(family) checkpoint, which upscale does not run (it runs \(supportedFamilies))")
        case .unknown:
            let sample = names.prefix(3).joined(separator: ", ")
            throw ImportError(.architecture, "\(path): unrecognised state dict (\(names.count) tensors: \(sample)\(names.count > 3 ? ", …" : "")); expected the keys of RRDBNet (conv_first.weight, body.0.rdb1.conv1.weight, …), old ESRGAN (model.0.weight, model.1.sub.0.RDB1.conv1.0.weight, …), SPAN (conv_1.sk.weight or conv_1.eval_conv.weight, block_1.c1_r.…) or SRVGGNetCompact (body.0.weight, body.1.weight, …); waifu2x models need --arch upconv7 or vgg7")
        }
    }

    /// The named tensors of a `.pth` or `.safetensors` state dict (F32, F16 or BF16 values as
    /// float32), read with the checks of the importers.
    public static func stateDictModelTensors(path: String) throws -> [(name: String, tensor: Tensor)] {
        path.lowercased().hasSuffix(".safetensors") ? try safetensorsStateDict(path: path) : try stateDict(path: path)
    }

    /// The tensors of a `.safetensors` state dict, in the header's byte order of names, every
    /// entry checked (dtype, shape, offsets inside the data, no overlap) before any is decoded.
    static func safetensorsStateDict(path: String) throws -> [(name: String, tensor: Tensor)] {
        let bytes = try read(path)
        func fail(_ what: String) -> ModelError { ModelError("\(path): \(what)", path: path) }
        do {
            let (header, dataStart) = try SafetensorsFile.header(bytes, fail: fail)
            let dataCount = bytes.count - dataStart
            var entries: [SafetensorsFile.Entry] = []
            for (name, value) in header.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) where name != "__metadata__" {
                guard let info = value as? [String: Any], let dtypeText = info["dtype"] as? String else {
                    throw fail("tensor \"\(name)\": header entry has no dtype")
                }
                guard let dtype = ModelTensorType(rawValue: dtypeText) else {
                    throw fail("tensor \"\(name)\" has unsupported dtype \(dtypeText) (supported: F32, F16, BF16)")
                }
                guard let shapeList = info["shape"] as? [Any], let shape = intList(shapeList), shape.count <= 4,
                      shape.allSatisfy({ (0...ModelLimits.maxChannels).contains($0) }) else {
                    throw fail("tensor \"\(name)\" has no valid shape (at most 4 dims of at most \(ModelLimits.maxChannels))")
                }
                guard let offsetList = info["data_offsets"] as? [Any], let offsets = intList(offsetList), offsets.count == 2,
                      offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataCount else {
                    throw fail("tensor \"\(name)\" has data_offsets outside the data (\(dataCount) bytes): the file is truncated or corrupted")
                }
                let count = Tensor.checkedElementCount(shape) ?? Int.max
                guard count <= Int.max / 4, count * dtype.byteCount == offsets[1] - offsets[0] else {
                    throw fail("tensor \"\(name)\" has shape \(shape) of \(dtypeText) but data_offsets hold \(offsets[1] - offsets[0]) bytes")
                }
                entries.append(SafetensorsFile.Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
            }
            let byOffset = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
            var reach: SafetensorsFile.Entry? = nil
            for b in byOffset where b.end > b.begin {
                if let a = reach, b.begin < a.end { throw fail("tensor \"\(b.name)\" overlaps tensor \"\(a.name)\"") }
                if reach.map({ b.end > $0.end }) ?? true { reach = b }
            }
            // In natural name order (body.2 before body.10): the module order of the networks
            // whose importers read modules in sequence (SRVGGNetCompact), as a .pth lists them.
            let ordered = entries.sorted { naturalOrder($0.name, $1.name) }
            return try ordered.map { ($0.name, try SafetensorsFile.decode($0, bytes, dataStart, fail: fail)) }
        } catch let error as ModelError {
            throw ImportError(.syntax, error.message)
        }
    }
}

/// Whether `a` sorts before `b` when the dot-separated parts that are integers compare as numbers.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    let (pa, pb) = (a.split(separator: ".", omittingEmptySubsequences: false), b.split(separator: ".", omittingEmptySubsequences: false))
    for (x, y) in zip(pa, pb) where x != y {
        if let i = Int(x), let j = Int(y) { return i < j }
        return x.utf8.lexicographicallyPrecedes(y.utf8)
    }
    return pa.count < pb.count
}
