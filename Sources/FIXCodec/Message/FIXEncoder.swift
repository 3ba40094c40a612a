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
    @discardableResult
    public mutating func encode(_ message: FIXMessage) -> [UInt8] {
        body.removeAll(keepingCapacity: true)
        message.storage.withUnsafeBufferPointer { storage in
            for field in message.fields {
                switch field.tag {
                case FIXTag.beginString, FIXTag.bodyLength, FIXTag.checkSum: continue
                default:
                    FIXFormat.appendInteger(field.tag, to: &body)
                    body.append(UInt8(ascii: "="))
                    body.append(contentsOf: UnsafeBufferPointer(rebasing: storage[field.range]))
                    body.append(1)
                }
            }
        }
        output.removeAll(keepingCapacity: true)
        output.append(UInt8(ascii: "8"))
        output.append(UInt8(ascii: "="))
        output.append(contentsOf: beginString)
        output.append(1)
        output.append(UInt8(ascii: "9"))
        output.append(UInt8(ascii: "="))
        FIXFormat.appendInteger(body.count, to: &output)
        output.append(1)
        output.append(contentsOf: body)
        var sum: UInt = 0
        output.withUnsafeBufferPointer { pointer in
            for byte in pointer { sum &+= UInt(byte) }
        }
        let checkSum = Int(sum % 256)
        output.append(UInt8(ascii: "1"))
        output.append(UInt8(ascii: "0"))
        output.append(UInt8(ascii: "="))
        output.append(0x30 + UInt8(checkSum / 100))
        output.append(0x30 + UInt8(checkSum / 10 % 10))
        output.append(0x30 + UInt8(checkSum % 10))
        output.append(1)
        return output
    }
}
