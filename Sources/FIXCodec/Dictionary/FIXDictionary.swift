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
