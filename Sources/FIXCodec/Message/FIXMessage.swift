/// A FIX message: its fields in order, their values held in one byte buffer.
///
/// A parsed message keeps the wire bytes it came from and points into them, so reading a field costs
/// no copy. Setting a field appends its bytes to the buffer. Fields keep the order they were added or
/// received in; the encoder writes them in that order between BeginString/BodyLength and CheckSum.
public struct FIXMessage: Sendable, Hashable {
    /// The bytes the fields' ranges point into.
    public private(set) var storage: [UInt8]
    /// The fields in order.
    public private(set) var fields: [FIXField]

    /// An empty message.
    public init() {
        storage = []
        fields = []
    }

    /// An empty message with room for `bytes` of values and `fields` fields.
    public init(reservingBytes bytes: Int, fields count: Int) {
        storage = []
        storage.reserveCapacity(bytes)
        fields = []
        fields.reserveCapacity(count)
    }

    /// A message whose first field is MsgType (35) = `msgType`.
    public init(msgType: String) {
        self.init()
        append(FIXTag.msgType, msgType)
    }

    init(storage: [UInt8], fields: [FIXField]) {
        self.storage = storage
        self.fields = fields
    }

    /// The storage emptied, its capacity kept, handed over so that appending to it does not copy.
    mutating func takeStorage() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &storage)
        taken.removeAll(keepingCapacity: true)
        return taken
    }

    /// The fields emptied, their capacity kept.
    mutating func takeFields() -> [FIXField] {
        var taken: [FIXField] = []
        swap(&taken, &fields)
        taken.removeAll(keepingCapacity: true)
        if taken.capacity < 24 { taken.reserveCapacity(24) }
        return taken
    }

    mutating func restore(storage: [UInt8], fields: [FIXField]) {
        self.storage = storage
        self.fields = fields
    }

    /// The bytes of `field`'s value.
    @inline(__always)
    public func bytes(of field: FIXField) -> ArraySlice<UInt8> { storage[field.range] }

    /// The value of `field` as text.
    public func string(of field: FIXField) -> String { String(decoding: storage[field.range], as: UTF8.self) }

    /// The index of the first field with `tag`.
    public func index(of tag: Int) -> Int? { fields.firstIndex { $0.tag == tag } }

    /// Whether the message has a field with `tag`.
    public func contains(_ tag: Int) -> Bool { fields.contains { $0.tag == tag } }

    /// The first value of `tag` as text, or nil when absent.
    public subscript(tag: Int) -> String? {
        guard let field = fields.first(where: { $0.tag == tag }) else { return nil }
        return string(of: field)
    }

    /// The first value of `tag` as bytes.
    public func bytes(_ tag: Int) -> ArraySlice<UInt8>? {
        guard let field = fields.first(where: { $0.tag == tag }) else { return nil }
        return storage[field.range]
    }

    /// The first value of `tag` as an integer, nil when absent or not an integer.
    public func int(_ tag: Int) -> Int? {
        guard let value = bytes(tag) else { return nil }
        return FIXFormat.integer(value)
    }

    /// The first value of `tag` as a FIX boolean (`Y`), false when absent.
    public func flag(_ tag: Int) -> Bool { bytes(tag).map { $0.count == 1 && $0.first == UInt8(ascii: "Y") } ?? false }

    /// MsgType (35).
    public var msgType: String? { self[FIXTag.msgType] }

    /// Appends `tag=value`.
    public mutating func append(_ tag: Int, _ value: some Collection<UInt8>) {
        let start = storage.count
        storage.append(contentsOf: value)
        fields.append(FIXField(tag: tag, range: start..<storage.count))
    }

    /// Appends `tag=value`.
    public mutating func append(_ tag: Int, _ value: String) {
        var value = value
        value.withUTF8 { append(tag, $0) }
    }

    /// Appends `tag=value` with an integer value.
    public mutating func append(_ tag: Int, _ value: Int) {
        let start = storage.count
        FIXFormat.appendInteger(value, to: &storage)
        fields.append(FIXField(tag: tag, range: start..<storage.count))
    }

    /// Appends `tag=YYYYMMDD-HH:MM:SS.sss`.
    public mutating func append(_ tag: Int, _ time: FIXTimestamp) {
        let start = storage.count
        time.append(to: &storage)
        fields.append(FIXField(tag: tag, range: start..<storage.count))
    }

    /// Appends a field of another message, copying its value.
    public mutating func append(_ field: FIXField, of other: FIXMessage) {
        append(field.tag, other.storage[field.range])
    }

    /// Sets the first field with `tag` to `value`, or appends it.
    public mutating func set(_ tag: Int, _ value: String) {
        guard let index = index(of: tag) else { return append(tag, value) }
        let start = storage.count
        storage.append(contentsOf: value.utf8)
        fields[index].range = start..<storage.count
    }

    /// Removes every field, keeping the buffers' capacity.
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
    }

    /// Removes every field with `tag` (without touching, so without copying, a message that has none).
    public mutating func remove(_ tag: Int) {
        guard contains(tag) else { return }
        fields.removeAll { $0.tag == tag }
    }

    /// Inserts `tag=value` before the field at `index`.
    public mutating func insert(_ tag: Int, _ value: String, at index: Int) {
        let start = storage.count
        storage.append(contentsOf: value.utf8)
        fields.insert(FIXField(tag: tag, range: start..<storage.count), at: index)
    }

    /// Replaces the fields with `newFields`, which point into this message's storage.
    mutating func replaceFields(_ newFields: [FIXField]) {
        fields = newFields
    }

    /// The message as `tag=value|...` text with SOH shown as `|`, for logs and test failures.
    public var debugText: String {
        fields.map { "\($0.tag)=\(string(of: $0))" }.joined(separator: "|")
    }
}
