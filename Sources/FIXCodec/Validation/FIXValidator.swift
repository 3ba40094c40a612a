/// Checks a parsed message against a data dictionary in QuickFIX's order, so that a message with
/// several faults is rejected for the same one QuickFIX would name:
///
/// 1. header or body fields out of place (a header field after the body, a body field after the
///    trailer) → TagSpecifiedOutOfRequiredOrder;
/// 2. a MsgType the dictionary does not define → InvalidMsgType;
/// 3. required fields of the header, trailer, body and each group entry, lowest tag first →
///    RequiredTagMissing;
/// 4. header, trailer, then body fields in ascending tag order: a repeated tag, an empty value, the
///    value's format and enum, a tag the dictionary does not define, a body tag not defined for the
///    message type, a group count that differs from the entries → their reasons.
///
/// Repeating groups are read as QuickFIX reads them: an entry starts at the delimiter or at a field
/// the entry already has, and the group ends at the first field it does not define.
///
/// A valid message is checked in one pass in wire order that allocates nothing (tags seen are kept in
/// bitmaps the validator reuses, hence `mutating`); only a message with a fault is read again in
/// QuickFIX's order to name the fault.
public struct FIXValidator: Sendable {
    /// The dictionary messages are checked against.
    public let dictionary: FIXDictionary
    /// Tags seen per level during the fast pass: header, trailer, body, then one per group depth.
    var scratch: [FIXTagSet]

    /// A validator for `dictionary`.
    public init(dictionary: FIXDictionary) {
        self.dictionary = dictionary
        scratch = Array(repeating: FIXTagSet(maximumTag: 1024), count: 4)
    }

    /// The structure of a message: the fields of the header, the body and the trailer, with groups.
    public struct Structure: Sendable {
        /// One field at a level, with the entries of the group it counts (empty when it counts none).
        public struct Node: Sendable {
            /// The index of the field in the message.
            public var field: Int
            /// The group's entries when the field is a group count.
            public var entries: [[Node]]
        }

        /// Header fields, in wire order.
        public var header: [Node] = []
        /// Body fields, in wire order.
        public var body: [Node] = []
        /// Trailer fields, in wire order.
        public var trailer: [Node] = []
        /// The first field out of its part (a header field after the body, a body field after the trailer).
        public var outOfOrderTag: Int?
    }

    /// Reads the message's structure by the dictionary.
    public func structure(of message: FIXMessage) -> Structure {
        var structure = Structure()
        let fields = message.fields
        let layout = message.msgType.flatMap { dictionary.messages[$0] }
        var part = 0  // 0 header, 1 body, 2 trailer
        var index = 0
        while index < fields.count {
            let tag = fields[index].tag
            if dictionary.isHeaderField(tag) {
                if part != 0, structure.outOfOrderTag == nil { structure.outOfOrderTag = tag }
                structure.header.append(node(at: &index, in: fields, groups: dictionary.header.groups))
            } else if dictionary.isTrailerField(tag) {
                part = 2
                structure.trailer.append(Structure.Node(field: index, entries: []))
                index += 1
            } else {
                if part == 2, structure.outOfOrderTag == nil { structure.outOfOrderTag = tag }
                part = 1
                structure.body.append(node(at: &index, in: fields, groups: layout?.groups ?? [:]))
            }
        }
        return structure
    }

    private func node(at index: inout Int, in fields: [FIXField], groups: [Int: FIXGroupLayout]) -> Structure.Node {
        let tag = fields[index].tag
        var node = Structure.Node(field: index, entries: [])
        index += 1
        if let group = groups[tag] { node.entries = entries(of: group, at: &index, in: fields) }
        return node
    }

    private func entries(of group: FIXGroupLayout, at index: inout Int, in fields: [FIXField]) -> [[Structure.Node]] {
        var entries: [[Structure.Node]] = []
        var current: [Structure.Node]?
        var seen: Set<Int> = []
        while index < fields.count {
            let tag = fields[index].tag
            let inGroup = group.entry.allows(tag)
            if tag == group.delimiter || (inGroup && (current == nil || seen.contains(tag))) {
                if let current { entries.append(current) }
                current = []
                seen.removeAll(keepingCapacity: true)
            } else if !inGroup {
                break
            }
            seen.insert(tag)
            current?.append(node(at: &index, in: fields, groups: group.entry.groups))
        }
        if let current { entries.append(current) }
        return entries
    }

    /// Validates `message`; returns the first fault in QuickFIX's order, nil when it is valid.
    public mutating func validate(_ message: FIXMessage) -> FIXRejection? {
        if isValidFast(message) { return nil }
        return validateInOrder(message)
    }

    /// The ordered validation alone (what ``validate(_:)`` falls back to), allocating as it reads the
    /// message's structure; for messages already known to be at fault, and for tests.
    public func validateInOrder(_ message: FIXMessage) -> FIXRejection? {
        validate(message, structure: structure(of: message))
    }

    /// Validates `message` whose structure was already read.
    public func validate(_ message: FIXMessage, structure: Structure) -> FIXRejection? {
        if let tag = structure.outOfOrderTag { return FIXRejection(.tagSpecifiedOutOfRequiredOrder, tag: tag) }
        guard let msgType = message.msgType, let layout = dictionary.messages[msgType] else {
            return FIXRejection(.invalidMsgType)
        }
        if let missing = firstMissing(structure.header, dictionary.header, message)
            ?? firstMissing(structure.trailer, dictionary.trailer, message)
            ?? firstMissing(structure.body, layout, message)
        {
            return FIXRejection(.requiredTagMissing, tag: missing)
        }
        return check(structure.header, dictionary.header, message, isBody: false)
            ?? check(structure.trailer, dictionary.trailer, message, isBody: false)
            ?? check(structure.body, layout, message, isBody: true)
    }

    private func firstMissing(_ nodes: [Structure.Node], _ layout: FIXMessageLayout, _ message: FIXMessage) -> Int? {
        for tag in layout.required where !nodes.contains(where: { message.fields[$0.field].tag == tag }) {
            return tag
        }
        for node in nodes where !node.entries.isEmpty {
            guard let group = layout.groups[message.fields[node.field].tag] else { continue }
            for entry in node.entries {
                if let missing = firstMissing(entry, group.entry, message) { return missing }
            }
        }
        return nil
    }

    private func check(
        _ nodes: [Structure.Node], _ layout: FIXMessageLayout, _ message: FIXMessage, isBody: Bool
    ) -> FIXRejection? {
        let sorted = nodes.sorted { message.fields[$0.field].tag < message.fields[$1.field].tag }
        var last: Int?
        for node in sorted {
            let field = message.fields[node.field]
            let tag = field.tag
            if tag == last { return FIXRejection(.tagAppearsMoreThanOnce, tag: tag) }
            let value = message.bytes(of: field)
            if value.isEmpty { return FIXRejection(.tagSpecifiedWithoutValue, tag: tag) }
            let definition = dictionary.field(tag)
            if let definition {
                if !Self.hasValidFormat(value, definition.type) { return FIXRejection(.incorrectDataFormat, tag: tag) }
                if let values = definition.values, !Self.isAllowed(value, values, definition.type) {
                    return FIXRejection(.valueIsIncorrect, tag: tag)
                }
            } else {
                return FIXRejection(.invalidTagNumber, tag: tag)
            }
            if isBody {
                if !layout.allows(tag) { return FIXRejection(.tagNotDefinedForMessageType, tag: tag) }
                if layout.groups[tag] != nil, FIXFormat.integer(value) != node.entries.count {
                    return FIXRejection(.incorrectNumInGroupCount, tag: tag)
                }
            }
            last = tag
        }
        for node in sorted where !node.entries.isEmpty {
            guard let group = layout.groups[message.fields[node.field].tag] else { continue }
            for entry in node.entries {
                if let rejection = check(entry, group.entry, message, isBody: true) { return rejection }
            }
        }
        return nil
    }

    static func hasValidFormat(_ value: some Collection<UInt8>, _ type: FIXFieldType) -> Bool {
        switch type {
        case .integer: FIXFormat.integer(value) != nil
        case .decimal: FIXFormat.isDecimal(value)
        case .character: value.count == 1
        case .boolean: value.count == 1 && (value.first == UInt8(ascii: "Y") || value.first == UInt8(ascii: "N"))
        case .utcTimestamp: FIXFormat.isUTCTimestamp(value)
        case .utcTimeOnly: FIXFormat.isUTCTimeOnly(value)
        case .date: FIXFormat.isDate(value)
        case .multipleValues, .data, .text: true
        }
    }

    static func isAllowed(_ value: some Collection<UInt8>, _ values: Set<String>, _ type: FIXFieldType) -> Bool {
        if type == .multipleValues {
            return value.split(separator: UInt8(ascii: " ")).allSatisfy {
                values.contains(String(decoding: $0, as: UTF8.self))
            }
        }
        return values.contains(String(decoding: value, as: UTF8.self))
    }
}
