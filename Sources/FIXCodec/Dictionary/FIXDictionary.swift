/// A FIX data dictionary loaded from QuickFIX's XML format: the fields with their types and allowed
/// values, the header and trailer, and every message type with its fields and repeating groups.
public struct FIXDictionary: Sendable {
    /// One field of the dictionary.
    public struct Field: Sendable {
        /// The tag number.
        public var tag: Int
        /// The field's name, as `ClOrdID`.
        public var name: String
        /// Its type, which decides the format check.
        public var type: FIXFieldType
        /// The allowed values when the dictionary lists them, else nil (any value).
        public var values: Set<String>?
    }

    /// The BeginString this dictionary describes, as `FIX.4.2`.
    public let beginString: String
    /// The standard header's layout.
    public let header: FIXMessageLayout
    /// The standard trailer's layout.
    public let trailer: FIXMessageLayout
    /// Every message type's body layout, by MsgType.
    public let messages: [String: FIXMessageLayout]
    /// The message types of category `admin` (the session's own messages).
    public let adminMessageTypes: Set<String>
    private let fieldsByTag: [Field?]
    private let tagsByName: [String: Int]
    /// Types by tag, with no reference-counted parts, for the hot paths.
    private let typesByTag: [FIXFieldType?]
    /// Tags whose enum values are all single ASCII characters, and those characters as a 128-bit mask.
    private let characterEnumTags: FIXTagSet
    private let characterEnumMasks: [(UInt64, UInt64)]
    /// Tags that list allowed values.
    private let enumTags: FIXTagSet
    /// Message layouts of one-character MsgTypes by that character, skipping the hashed lookup.
    private let singleCharacterLayouts: [FIXMessageLayout?]

    init(
        beginString: String, fields: [Field], header: FIXMessageLayout, trailer: FIXMessageLayout,
        messages: [String: FIXMessageLayout], adminMessageTypes: Set<String>
    ) {
        self.beginString = beginString
        self.header = header
        self.trailer = trailer
        self.messages = messages
        self.adminMessageTypes = adminMessageTypes
        var byTag = [Field?](repeating: nil, count: (fields.map(\.tag).max() ?? 0) + 1)
        var byName: [String: Int] = [:]
        for field in fields {
            byTag[field.tag] = field
            byName[field.name] = field.tag
        }
        fieldsByTag = byTag
        tagsByName = byName
        typesByTag = byTag.map { $0?.type }
        var characterTags = FIXTagSet(maximumTag: byTag.count)
        var masks = [(UInt64, UInt64)](repeating: (0, 0), count: byTag.count)
        for field in fields {
            guard let values = field.values, values.allSatisfy({ $0.utf8.count == 1 && $0.utf8.first! < 128 }) else {
                continue
            }
            characterTags.insert(field.tag)
            for value in values {
                let byte = value.utf8.first!
                if byte < 64 {
                    masks[field.tag].0 |= 1 << UInt64(byte)
                } else {
                    masks[field.tag].1 |= 1 << UInt64(byte - 64)
                }
            }
        }
        characterEnumTags = characterTags
        characterEnumMasks = masks
        enumTags = FIXTagSet(fields.filter { $0.values != nil }.map(\.tag))
        var layouts = [FIXMessageLayout?](repeating: nil, count: 128)
        for (msgType, layout) in messages where msgType.utf8.count == 1 && msgType.utf8.first! < 128 {
            layouts[Int(msgType.utf8.first!)] = layout
        }
        singleCharacterLayouts = layouts
    }

    /// The body layout of the message type spelled by `msgType`'s bytes, nil when undefined.
    @inline(__always)
    public func layout(forMsgType msgType: some Collection<UInt8>) -> FIXMessageLayout? {
        if msgType.count == 1, let byte = msgType.first, byte < 128 { return singleCharacterLayouts[Int(byte)] }
        return messages[String(decoding: msgType, as: UTF8.self)]
    }

    /// The type of `tag`, nil when the dictionary does not define it.
    @inline(__always)
    public func type(of tag: Int) -> FIXFieldType? {
        tag >= 0 && tag < typesByTag.count ? typesByTag[tag] : nil
    }

    /// Whether `value` is allowed for `tag` by its enum (true when the field lists no values).
    @inline(__always)
    public func allows(_ value: UnsafeBufferPointer<UInt8>, for tag: Int, type: FIXFieldType) -> Bool {
        guard enumTags.contains(tag) else { return true }
        if characterEnumTags.contains(tag), type != .multipleValues {
            guard value.count == 1 else { return false }
            let byte = value[0]
            let mask = characterEnumMasks[tag]
            return byte < 64 ? mask.0 & (1 << UInt64(byte)) != 0 : byte < 128 && mask.1 & (1 << UInt64(byte - 64)) != 0
        }
        guard let values = fieldsByTag[tag]?.values else { return true }
        return FIXValidator.isAllowed(value, values, type)
    }

    /// The field with `tag`, or nil when the dictionary does not define it.
    @inline(__always)
    public func field(_ tag: Int) -> Field? {
        tag >= 0 && tag < fieldsByTag.count ? fieldsByTag[tag] : nil
    }

    /// The tag of the field named `name`.
    public func tag(named name: String) -> Int? { tagsByName[name] }

    /// Whether `tag` belongs to the standard header.
    @inline(__always)
    public func isHeaderField(_ tag: Int) -> Bool { header.allowedTags.contains(tag) }

    /// Whether `tag` belongs to the standard trailer.
    @inline(__always)
    public func isTrailerField(_ tag: Int) -> Bool { trailer.allowedTags.contains(tag) }

    /// Whether a message of `msgType` is a session (admin) message.
    public func isAdmin(_ msgType: some StringProtocol) -> Bool { adminMessageTypes.contains(String(msgType)) }
}
