import Foundation
import Testing

@testable import ControlServer

/// The scan that decides whether a request line is read as a submit in one pass.
@Suite struct SubmitMentionTests {
    @Test(arguments: [
        (#"{"id":1,"op":"submit","account":"paper"}"#, true),
        (#""submit""#, true),
        (#"{"op":"hello","note":"x"} "submit""#, true),
        (#"{"id":2,"op":"cancel","order_id":"o-1"}"#, false),
        (#"{"op":"submitted"}"#, false),
        (#"{"op":"subm"#, false),
        (#""submi"#, false),
        (#"""submit"#, false),
        ("", false),
    ])
    func findsTheQuotedWordAnywhereAndNothingElse(line: String, expected: Bool) {
        #expect(RequestHandler.mentionsSubmit(Data(line.utf8)) == expected)
    }
}
