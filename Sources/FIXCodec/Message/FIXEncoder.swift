/// Writes messages to the wire: `8=` BeginString, `9=` BodyLength, the message's fields in order, and
/// `10=` CheckSum, into buffers it keeps between messages so that steady-state encoding allocates
/// nothing.
public struct FIXEncoder: Sendable {
    private var body: [UInt8] = []
    /// The buffer messages are written into; it only grows, and is never cleared between messages.
    private var output: [UInt8] = []
    private let beginString: [UInt8]
    /// `tag=` for tags below ``prefixedTags``, 8 bytes a slot, so a field's start is one 8-byte copy.
    private let tagPrefixes: [UInt8]
    private let tagPrefixLengths: [UInt8]
    private static let prefixedTags = 1024

    /// An encoder for messages of `beginString` (as `FIX.4.2`).
    public init(beginString: String) {
        self.beginString = Array(beginString.utf8)
        var prefixes = [UInt8](repeating: 0, count: Self.prefixedTags * 8)
        var lengths = [UInt8](repeating: 0, count: Self.prefixedTags)
        for tag in 0..<Self.prefixedTags {
            let text = Array("\(tag)=".utf8)
            for (offset, byte) in text.enumerated() { prefixes[tag * 8 + offset] = byte }
            lengths[tag] = UInt8(text.count)
        }
        tagPrefixes = prefixes
        tagPrefixLengths = lengths
        body.reserveCapacity(1024)
        output.reserveCapacity(1024)
    }

    /// Encodes `message`, skipping any BeginString, BodyLength or CheckSum it holds, and returns the bytes
    /// in a new array.
    @discardableResult
    public mutating func encode(_ message: FIXMessage) -> [UInt8] {
        withEncoded(message) { Array($0) }
    }

    /// Encodes `message` into the encoder's buffer and passes the bytes to `body`, allocating nothing
    /// once the buffer is large enough; the bytes are valid only inside `body`.
    ///
    /// One pass: the body's length is summed from the fields first, so the header, body and trailer are
    /// written straight into the reused buffer.
    public mutating func withEncoded<Result>(
        _ message: FIXMessage, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result {
        let length = write(message)
        return try output.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<length])) }
    }

    private mutating func write(_ message: FIXMessage) -> Int {
        var bodyLength = 0
        for field in message.fields {
            switch field.tag {
            case FIXTag.beginString, FIXTag.bodyLength, FIXTag.checkSum: continue
            case 0..<Self.prefixedTags: bodyLength += Int(tagPrefixLengths[field.tag]) + field.range.count + 1
            default: bodyLength += Self.digitCount(field.tag) + field.range.count + 2
            }
        }
        let prefixLength = 2 + beginString.count + 1 + 2 + Self.digitCount(bodyLength) + 1
        let total = prefixLength + bodyLength + 7
        if output.count < total + 8 {  // 8: room for the last prefix copy
            output.append(contentsOf: repeatElement(0, count: total + 8 - output.count))
        }
        let prefixes = tagPrefixes
        let prefixLengths = tagPrefixLengths
        output.withUnsafeMutableBufferPointer { out in
            var position = 0
            @inline(__always) func put(_ byte: UInt8) {
                out[position] = byte
                position += 1
            }
            func putNumber(_ value: Int) {
                if value < 0 {
                    put(UInt8(ascii: "-"))
                    return putNumber(-value)
                }
                let digits = Self.digitCount(value)
                var remaining = value
                var cursor = position + digits - 1
                repeat {
                    out[cursor] = 0x30 + UInt8(remaining % 10)
                    remaining /= 10
                    cursor -= 1
                } while remaining > 0
                position += digits
            }
            put(UInt8(ascii: "8"))
            put(UInt8(ascii: "="))
            for byte in beginString { put(byte) }
            put(1)
            put(UInt8(ascii: "9"))
            put(UInt8(ascii: "="))
            putNumber(bodyLength)
            put(1)
            message.storage.withUnsafeBufferPointer { storage in
                prefixes.withUnsafeBufferPointer { table in
                    prefixLengths.withUnsafeBufferPointer { lengths in
                        message.fields.withUnsafeBufferPointer { fields in
                            let base = out.baseAddress!
                            for field in fields {
                                let tag = field.tag
                                if tag == FIXTag.beginString || tag == FIXTag.bodyLength || tag == FIXTag.checkSum {
                                    continue
                                }
                                if tag >= 0, tag < Self.prefixedTags {
                                    // One unaligned 8-byte load and store of `tag=` and whatever follows it.
                                    let word = UnsafeRawPointer(table.baseAddress! + tag * 8).loadUnaligned(
                                        as: UInt64.self)
                                    UnsafeMutableRawPointer(base + position).storeBytes(of: word, as: UInt64.self)
                                    position += Int(lengths[tag])
                                } else {
                                    putNumber(tag)
                                    put(UInt8(ascii: "="))
                                }
                                let count = field.range.count
                                let source = storage.baseAddress! + field.range.lowerBound
                                if count <= 16 {
                                    for offset in 0..<count { base[position + offset] = source[offset] }
                                } else {
                                    UnsafeMutableRawPointer(base + position).copyMemory(from: source, byteCount: count)
                                }
                                position += count
                                base[position] = 1
                                position += 1
                            }
                        }
                    }
                }
            }
            var sum: UInt32 = 0
            for index in 0..<position { sum &+= UInt32(out[index]) }
            let checkSum = Int(sum % 256)
            put(UInt8(ascii: "1"))
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "="))
            put(0x30 + UInt8(checkSum / 100))
            put(0x30 + UInt8(checkSum / 10 % 10))
            put(0x30 + UInt8(checkSum % 10))
            put(1)
        }
        return total
    }

    @inline(__always)
    static func digitCount(_ value: Int) -> Int {
        guard value >= 0 else { return String(value).utf8.count }
        var count = 1
        var remaining = value
        while remaining >= 10 {
            remaining /= 10
            count += 1
        }
        return count
    }
}
