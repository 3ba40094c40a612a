extension FIXMessage {
    /// Parses one framed message.
    ///
    /// Reads every `tag=value<SOH>` field (a DATA field takes the length its LENGTH field gave, SOH
    /// included), then checks what QuickFIX checks before the session sees a message: the first three
    /// tags are 8, 9 and 35, and BodyLength and CheckSum match the bytes. A tag is read as C's `atol`
    /// reads it (leading sign and digits; none gives 0), so that validation can reject it by number.
    ///
    /// - Parameters:
    ///   - bytes: one whole message, from `8=` to the SOH after CheckSum.
    ///   - dictionary: tells which fields are DATA; nil reads every value up to the next SOH.
    ///   - checkLengthAndChecksum: false skips the BodyLength and CheckSum comparison.
    public init(
        parsing bytes: some Collection<UInt8>, dictionary: FIXDictionary? = nil, checkLengthAndChecksum: Bool = true
    ) throws(FIXParseError) {
        self.init()
        try reparse(bytes, dictionary: dictionary, checkLengthAndChecksum: checkLengthAndChecksum)
    }

    /// Parses `bytes` into this message, reusing its buffers: once they are large enough (and the message
    /// is not shared), parsing allocates nothing. Same checks as ``init(parsing:dictionary:checkLengthAndChecksum:)``.
    public mutating func reparse(
        _ bytes: some Collection<UInt8>, dictionary: FIXDictionary? = nil, checkLengthAndChecksum: Bool = true
    ) throws(FIXParseError) {
        var storage = takeStorage()
        storage.append(contentsOf: bytes)
        var fields = takeFields()
        var bodyLength = 0
        var checkSum = 0
        var index = 0
        let count = storage.count
        var previousLength: Int?
        var excludedFromLength = 0
        try storage.withUnsafeBufferPointer { (pointer) throws(FIXParseError) in
            while index < count {
                let fieldStart = index
                var tag = 0
                var negative = false
                var cursor = index
                if cursor < count, pointer[cursor] == UInt8(ascii: "-") || pointer[cursor] == UInt8(ascii: "+") {
                    negative = pointer[cursor] == UInt8(ascii: "-")
                    cursor += 1
                }
                while cursor < count, pointer[cursor] >= 0x30, pointer[cursor] <= 0x39 {
                    tag = tag &* 10 &+ Int(pointer[cursor] - 0x30)
                    cursor += 1
                }
                if negative { tag = -tag }
                var equals = index
                while equals < count, pointer[equals] != UInt8(ascii: "=") { equals += 1 }
                guard equals < count else { throw FIXParseError("Equal sign not found in field") }
                let valueStart = equals + 1
                var soh: Int
                if let length = previousLength, let dictionary, dictionary.type(of: tag) == .data,
                    valueStart + length < count, pointer[valueStart + length] == 1
                {
                    soh = valueStart + length
                } else {
                    soh = valueStart
                    while soh < count, pointer[soh] != 1 { soh += 1 }
                    guard soh < count else { throw FIXParseError("SOH not found at end of field") }
                }
                fields.append(FIXField(tag: tag, range: valueStart..<soh))
                index = soh + 1
                switch tag {
                case FIXTag.checkSum:
                    // CheckSum counts every byte but those of CheckSum fields: take them out again below.
                    var sum = 0
                    for position in fieldStart..<index { sum &+= Int(pointer[position]) }
                    checkSum &-= sum
                    excludedFromLength += index - fieldStart
                case FIXTag.beginString, FIXTag.bodyLength:
                    excludedFromLength += index - fieldStart
                default:
                    break
                }
                previousLength = nil
                if let dictionary, dictionary.type(of: tag) == .integer {
                    previousLength = FIXFormat.integer(pointer[valueStart..<soh])
                }
            }
            // One pass over all the bytes, which the compiler vectorizes.
            var total: UInt = 0
            for byte in pointer { total &+= UInt(byte) }
            checkSum &+= Int(bitPattern: total)
            bodyLength = count - excludedFromLength
        }
        restore(storage: storage, fields: fields)
        guard fields.count >= 3, fields[0].tag == FIXTag.beginString, fields[1].tag == FIXTag.bodyLength,
            fields[2].tag == FIXTag.msgType
        else { throw FIXParseError("Header fields out of order") }
        guard checkLengthAndChecksum else { return }
        let declaredLength = FIXFormat.integer(storage[fields[1].range])
        guard declaredLength == bodyLength else {
            throw FIXParseError(
                "Expected BodyLength=\(bodyLength), Received BodyLength=\(string(of: fields[1]))")
        }
        guard let checkSumField = fields.last(where: { $0.tag == FIXTag.checkSum }),
            FIXFormat.integer(storage[checkSumField.range]) == checkSum % 256
        else {
            throw FIXParseError(
                "Expected CheckSum=\(checkSum % 256), Received CheckSum=\(self[FIXTag.checkSum] ?? "none")")
        }
    }
}
