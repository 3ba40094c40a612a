/// SessionRejectReason (373): why a message was rejected at the session level, with QuickFIX's text.
public enum FIXSessionRejectReason: Int, Sendable, Hashable, CaseIterable {
    case invalidTagNumber = 0
    case requiredTagMissing = 1
    case tagNotDefinedForMessageType = 2
    case undefinedTag = 3
    case tagSpecifiedWithoutValue = 4
    case valueIsIncorrect = 5
    case incorrectDataFormat = 6
    case decryptionProblem = 7
    case signatureProblem = 8
    case compIDProblem = 9
    case sendingTimeAccuracyProblem = 10
    case invalidMsgType = 11
    case xmlValidationError = 12
    case tagAppearsMoreThanOnce = 13
    case tagSpecifiedOutOfRequiredOrder = 14
    case repeatingGroupFieldsOutOfOrder = 15
    case incorrectNumInGroupCount = 16
    case nonDataValueIncludesFieldDelimiter = 17
    case other = 99

    /// The Text (58) QuickFIX sends with this reason.
    public var text: String {
        switch self {
        case .invalidTagNumber: "Invalid tag number"
        case .requiredTagMissing: "Required tag missing"
        case .tagNotDefinedForMessageType: "Tag not defined for this message type"
        case .undefinedTag: "Undefined Tag"
        case .tagSpecifiedWithoutValue: "Tag specified without a value"
        case .valueIsIncorrect: "Value is incorrect (out of range) for this tag"
        case .incorrectDataFormat: "Incorrect data format for value"
        case .decryptionProblem: "Decryption problem"
        case .signatureProblem: "Signature problem"
        case .compIDProblem: "CompID problem"
        case .sendingTimeAccuracyProblem: "SendingTime accuracy problem"
        case .invalidMsgType: "Invalid MsgType"
        case .xmlValidationError: "XML Validation error"
        case .tagAppearsMoreThanOnce: "Tag appears more than once"
        case .tagSpecifiedOutOfRequiredOrder: "Tag specified out of required order"
        case .repeatingGroupFieldsOutOfOrder: "Repeating group fields out of order"
        case .incorrectNumInGroupCount: "Incorrect NumInGroup count for repeating group"
        case .nonDataValueIncludesFieldDelimiter: "Non Data value includes field delimiter (SOH character)"
        case .other: "Other"
        }
    }
}

/// A message that failed validation: the reason and the tag it concerns (RefTagID, 371).
public struct FIXRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The SessionRejectReason.
    public var reason: FIXSessionRejectReason
    /// The tag concerned, nil when the reason concerns the message as a whole.
    public var tag: Int?

    /// A rejection for `reason`, about `tag`.
    public init(_ reason: FIXSessionRejectReason, tag: Int? = nil) {
        self.reason = reason
        self.tag = tag
    }

    public var description: String { tag.map { "\(reason.text) (\($0))" } ?? reason.text }
}
