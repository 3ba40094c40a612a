/// Writes messages to the wire: `8=` BeginString, `9=` BodyLength, the message's fields in order, and
/// `10=` CheckSum, into buffers it keeps between messages so that steady-state encoding allocates
/// nothing.
public struct FIXEncoder: Sendable {
    private var body: [UInt8] = []
    /// The last encoded message's bytes (valid until the next ``encode(_:beginString:)``).
    public private(set) var output: [UInt8] = []
    private let beginString: [UInt8]

    /// An encoder for messages of `beginString` (as `FIX.4.2`).
    public init(beginString: String) {
        self.beginString = Array(beginString.utf8)
        body.reserveCapacity(1024)
        output.reserveCapacity(1024)
    }

    /// Encodes `message`, skipping any BeginString, BodyLength or CheckSum it holds, and returns the bytes.
    ///
    /// One pass: the body's length is summed from the fields first, so the header, body and trailer are
    /// written straight into the reused output buffer.
    @discardableResult
    public mutating func encode(_ message: FIXMessage) -> [UInt8] {
        var bodyLength = 0
        for field in message.fields {
            switch field.tag {
            case FIXTag.beginString, FIXTag.bodyLength, FIXTag.checkSum: continue
            default: bodyLength += Self.digitCount(field.tag) + field.range.count + 2
            }
        }
        let prefixLength = 2 + beginString.count + 1 + 2 + Self.digitCount(bodyLength) + 1
        let total = prefixLength + bodyLength + 7
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: total))
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
                for field in message.fields {
                    switch field.tag {
                    case FIXTag.beginString, FIXTag.bodyLength, FIXTag.checkSum: continue
                    default:
                        putNumber(field.tag)
                        put(UInt8(ascii: "="))
                        let count = field.range.count
                        if count > 0 {
                            UnsafeMutableRawPointer(out.baseAddress! + position).copyMemory(
                                from: storage.baseAddress! + field.range.lowerBound, byteCount: count)
                            position += count
                        }
                        put(1)
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
        return output
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
