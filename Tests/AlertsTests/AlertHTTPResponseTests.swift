import Alerts
import Foundation
import Testing

@Suite struct AlertHTTPResponseTests {
    @Test(
        arguments: [
            (200, nil, "", DeliveryQueue.Outcome.delivered),
            (204, nil, "", .delivered),
            (429, "7", "", .retry(after: .seconds(7), problem: "HTTP 429 (rate limited)")),
            (429, "1.5", "", .retry(after: .milliseconds(1_500), problem: "HTTP 429 (rate limited)")),
            (
                429, nil, #"{"retry_after": 2.25}"#,
                .retry(after: .milliseconds(2_250), problem: "HTTP 429 (rate limited)")
            ),
            (
                429, nil, #"{"ok":false,"parameters":{"retry_after":5}}"#,
                .retry(after: .seconds(5), problem: "HTTP 429 (rate limited)")
            ),
            (429, "Wed, 21 Oct 2026 07:28:00 GMT", "", .retry(after: nil, problem: "HTTP 429 (rate limited)")),
            (503, "30", "", .retry(after: .seconds(30), problem: "HTTP 503")),
            (500, "30", "", .retry(after: nil, problem: "HTTP 500")),
            (408, nil, "", .retry(after: nil, problem: "HTTP 408")),
            (404, nil, "", .refused(problem: "HTTP 404")),
            (401, nil, "", .refused(problem: "HTTP 401")),
        ] as [(Int, String?, String, DeliveryQueue.Outcome)])
    func mapsEveryAnswerToRetryDeliverOrRefuse(
        status: Int, retryAfter: String?, body: String, outcome: DeliveryQueue.Outcome
    ) {
        #expect(
            AlertHTTPResponse.answered(status: status, retryAfter: retryAfter, body: Data(body.utf8)).outcome == outcome
        )
    }

    @Test func aNetworkFailureIsRetried() {
        #expect(AlertHTTPResponse.failed(problem: "timed out").outcome == .retry(after: nil, problem: "timed out"))
    }
}
