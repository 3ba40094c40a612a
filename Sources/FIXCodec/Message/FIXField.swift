/// One `tag=value` field of a message: the tag and where its value lies in the message's storage.
public struct FIXField: Sendable, Hashable {
    /// The tag number (0 when the wire's tag had no digits, negative when it was signed, as QuickFIX reads it).
    public var tag: Int
    /// The value's bytes within the message's storage.
    public var range: Range<Int>
}

/// Tags the session layer and the codec name.
public enum FIXTag {
    public static let beginSeqNo = 7
    public static let beginString = 8
    public static let bodyLength = 9
    public static let checkSum = 10
    public static let clOrdID = 11
    public static let endSeqNo = 16
    public static let msgSeqNum = 34
    public static let msgType = 35
    public static let newSeqNo = 36
    public static let possDupFlag = 43
    public static let refSeqNum = 45
    public static let senderCompID = 49
    public static let senderSubID = 50
    public static let sendingTime = 52
    public static let targetCompID = 56
    public static let targetSubID = 57
    public static let text = 58
    public static let possResend = 97
    public static let encryptMethod = 98
    public static let heartBtInt = 108
    public static let testReqID = 112
    public static let onBehalfOfCompID = 115
    public static let onBehalfOfSubID = 116
    public static let origSendingTime = 122
    public static let gapFillFlag = 123
    public static let deliverToCompID = 128
    public static let deliverToSubID = 129
    public static let senderLocationID = 142
    public static let targetLocationID = 143
    public static let onBehalfOfLocationID = 144
    public static let deliverToLocationID = 145
    public static let resetSeqNumFlag = 141
    public static let refTagID = 371
    public static let refMsgType = 372
    public static let sessionRejectReason = 373
    public static let businessRejectRefID = 379
    public static let businessRejectReason = 380
}
