import Foundation

/// A chain spec or profile that cannot be used, with the field at fault and, when it came from a file, where.
public struct ChainSpecError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The field path, e.g. `certificates[1].not_after` or `serve[2]`.
    public var field: String
    public var message: String
    public var file: String?
    /// 1-based line in `file` (or in the YAML text) when known.
    public var line: Int?

    public init(field: String, message: String, file: String? = nil, line: Int? = nil) {
        self.field = field
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String {
        var location = ""
        switch (file, line) {
        case (let file?, let line?): location = "\(file):\(line): "
        case (let file?, nil): location = "\(file): "
        case (nil, let line?): location = "line \(line): "
        case (nil, nil): break
        }
        return field.isEmpty ? "\(location)\(message)" : "\(location)\(field): \(message)"
    }

    public var errorDescription: String? { description }

    /// The spec error inside `error`: itself, or the one a Decoder (Yams' `YAMLDecoder` wraps errors thrown
    /// during decoding in `DecodingError.dataCorrupted`) carries as its underlying error.
    public init?(unwrapping error: any Error) {
        var current: (any Error)? = error
        for _ in 0..<8 {
            guard let candidate = current else { return nil }
            if let specError = candidate as? ChainSpecError {
                self = specError
                return
            }
            guard let decodingError = candidate as? DecodingError else { return nil }
            switch decodingError {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
                .valueNotFound(_, let context):
                current = context.underlyingError
            @unknown default:
                return nil
            }
        }
        return nil
    }
}
