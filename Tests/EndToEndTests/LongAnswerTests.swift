import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// `orders` and `cancel_all` over more orders than fit in the 1 MiB an answer keeps in memory: the rest
    /// of the answer goes to an unlinked file beside the journal and is sent from it (`AnswerList`). The
    /// client reads the same whole line, and the connection carries on after it.
    @Suite(.timeLimit(.minutes(2)))
    struct LongAnswerTests {
        static let orders = 4_000

        /// Sends `line` and reads its answer: a line longer than 1 MiB, for `id`, whose `orders` it returns.
        static func longAnswer(_ client: ControlClient, _ line: String, id: String) throws -> [[String: Any]] {
            try client.send(line)
            let text = try #require(try client.readLine())
            #expect(text.utf8.count > 1 << 20)
            let answer = object(text)
            #expect(answer["id"] as? String == id && answer["ok"] as? Bool == true)
            return answer["orders"] as? [[String: Any]] ?? []
        }

        @Test func ordersAndCancelAllOverThousandsOfOrdersAnswerWholeLines() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try client.request("quote", ["symbol": "AAPL", "bid": "100", "ask": "100.01"])
            // Resting buys, sent in batches of 200 lines and answered in order.
            for start in stride(from: 0, to: Self.orders, by: 200) {
                let lines = (start..<(start + 200)).map { index in
                    #"{"id":\#(index),"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","type":"limit","limit_price":"10","tif":"gtc","client_order_id":"long-\#(index)"}"#
                }
                try client.send(lines.joined(separator: "\n"))
                for _ in lines {
                    let answer = try #require(try client.readObject())
                    try #require(answer["ok"] as? Bool == true, "\(answer)")
                }
            }
            let expected = Set((0..<Self.orders).map { "long-\($0)" })
            let open = try Self.longAnswer(client, #"{"id":"orders","op":"orders","account":"paper"}"#, id: "orders")
            #expect(Set(open.compactMap { $0["client_order_id"] as? String }) == expected)
            let pending = try Self.longAnswer(client, #"{"id":"all","op":"cancel_all","account":"paper"}"#, id: "all")
            #expect(Set(pending.compactMap { $0["client_order_id"] as? String }) == expected)
            #expect(pending.allSatisfy { $0["status"] as? String == "pending_cancel" })
            let ids = pending.compactMap { $0["order_id"] as? String }
            #expect(ids == ids.sorted())

            // The connection carries on; the files were unlinked as soon as they were made.
            #expect(try client.request("status")["ok"] as? Bool != false)
            let folder = URL(fileURLWithPath: daemon.journalPath).deletingLastPathComponent().path
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
                $0.hasPrefix(".gatewayd-answer")
            }
            #expect(left.isEmpty)
            #expect(await daemon.stop() == 0)
        }
    }
}
