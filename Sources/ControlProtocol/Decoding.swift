import Foundation
public import GatewayCore

extension KeyedDecodingContainer {
    /// A decimal field: a string such as `"190.25"`, or a JSON number whose decimal value is exact at the
    /// field's scale (PROTOCOL.md). `nil` when absent or null.
    public func fixed<Kind: FixedKind>(_ key: Key, as _: Kind.Type = Kind.self) throws -> Fixed<Kind>? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        let text: String
        if let string = try? decode(String.self, forKey: key) {
            text = string
        } else if let number = try? decode(Decimal.self, forKey: key) {
            guard number.isFinite else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be finite")
            }
            text = "\(number)"
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                DecodingError.Context(codingPath: codingPath + [key], debugDescription: "must be a decimal string"))
        }
        guard let value = Fixed<Kind>(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription: "'\(text)' is not an exact decimal with at most \(Kind.scale) places")
        }
        return value
    }

    /// A required decimal field.
    public func requiredFixed<Kind: FixedKind>(_ key: Key, as kind: Kind.Type = Kind.self) throws -> Fixed<Kind> {
        guard let value = try fixed(key, as: kind) else {
            throw DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: codingPath, debugDescription: "required"))
        }
        return value
    }
}

/// A request that could not be read, with the field at fault.
public struct RequestProblem: Error, Sendable, Hashable {
    public var field: String?
    public var message: String

    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    /// Describes a decoding failure in a person's words, naming the field.
    public init(_ error: DecodingError) {
        func name(_ path: [any CodingKey]) -> String? {
            let parts = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return parts.isEmpty ? nil : parts.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = name(context.codingPath + [key]) ?? key.stringValue
            self.init(field: field, message: "missing field '\(field)'")
        case .typeMismatch(let type, let context):
            let field = name(context.codingPath)
            self.init(
                field: field, message: "field '\(field ?? "?")' has the wrong type (expected \(Self.typeName(type)))")
        case .valueNotFound(let type, let context):
            let field = name(context.codingPath)
            self.init(field: field, message: "field '\(field ?? "?")' is null (expected \(Self.typeName(type)))")
        case .dataCorrupted(let context):
            let field = name(context.codingPath)
            if let field {
                self.init(field: field, message: "field '\(field)': \(context.debugDescription)")
            } else {
                self.init(field: nil, message: "malformed JSON")
            }
        @unknown default:
            self.init(field: nil, message: "malformed request")
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is [String].Type: "a list of strings"
        default: "\(type)".lowercased()
        }
    }
}
