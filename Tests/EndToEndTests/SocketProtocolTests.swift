import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct SocketProtocolTests {
        @Test func everyBadInputGetsItsCodeAndTheConnectionCarriesOn() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let cases: [(String, String, String?)] = [
                ("not json", "bad_request", nil),
                ("[1,2]", "bad_request", nil),
                (#"{"id":1}"#, "bad_request", "op"),
                (#"{"id":2,"op":"fly"}"#, "unknown_op", "op"),
                (#"{"id":3,"op":"submit","symbol":"AAPL","side":"buy","qty":"1"}"#, "bad_request", "account"),
                (
                    #"{"id":4,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"0"}"#, "bad_request",
                    "qty"
                ),
                (
                    #"{"id":5,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"-3"}"#, "bad_request",
                    "qty"
                ),
                (
                    #"{"id":6,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"NaN"}"#,
                    "bad_request",
                    "qty"
                ),
                (
                    #"{"id":7,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"Infinity"}"#,
                    "bad_request", "qty"
                ),
                (
                    #"{"id":8,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":[1]}"#, "bad_request",
                    "qty"
                ),
                (
                    #"{"id":9,"op":"submit","account":"paper","symbol":"AAPL  251340C00100000","side":"buy","qty":"1"}"#,
                    "bad_request", "symbol"
                ),
                (
                    #"{"id":10,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","type":"limit"}"#,
                    "bad_request", "limit_price"
                ),
                (
                    #"{"id":11,"op":"submit","account":"ghost","symbol":"AAPL","side":"buy","qty":"1"}"#,
                    "unknown_account",
                    nil
                ),
                (#"{"id":12,"op":"cancel","account":"paper","order_id":"nope"}"#, "unknown_order", nil),
                (#"{"id":13,"op":"quote","symbol":"AAPL","bid":"10","ask":"9"}"#, "bad_request", "bid"),
                (
                    #"{"id":14,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","tif":"opg"}"#,
                    "not_supported", nil
                ),
            ]
            for (line, code, field) in cases {
                let answer = try exchange(client, line)
                #expect(answer["ok"] as? Bool == false, "\(line)")
                #expect(answer.errorCode == code, "\(line) → \(answer)")
                if let field { #expect(answer.errorField == field, "\(line) → \(answer)") }
            }
            let hello = try exchange(client, #"{"id":"h","op":"hello","client":"test","protocol":1}"#)
            #expect(hello["ok"] as? Bool == true)
            #expect(hello["id"] as? String == "h")
            #expect(await daemon.stop() == 0)
        }

        @Test func aLineOverSixtyFourKibibytesClosesOnlyThatConnection() async throws {
            let daemon = try await startedDaemon()
            let other = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let huge = #"{"id":1,"op":"hello","client":""# + String(repeating: "x", count: 70_000) + #""}"#
            let answer = try exchange(client, huge)
            #expect(answer.errorCode == "too_large")
            #expect(try client.readLine() == nil)
            #expect(try exchange(other, #"{"id":2,"op":"status"}"#)["ok"] as? Bool == true)
            #expect(await daemon.stop() == 0)
        }

        @Test func answersComeInRequestOrderOnEachConnection() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":0,"op":"quote","symbol":"MSFT","last":"400"}"#)
            var lines = ""
            for id in 1...50 {
                lines +=
                    #"{"id":\#(id),"op":"submit","account":"paper","symbol":"MSFT","side":"buy","qty":"1","client_order_id":"pipe-\#(id)"}"#
                    + "\n"
            }
            try client.send(String(lines.dropLast()))
            var ids: [Int] = []
            while ids.count < 50, let answer = try client.readObject() {
                ids.append(answer["id"] as? Int ?? -1)
            }
            #expect(ids == Array(1...50))
            #expect(await daemon.stop() == 0)
        }

        /// Pipelined requests of every kind — order-path verbs the engine answers from its own thread,
        /// reads answered by tasks, lines refused at once — come back in the order they were sent.
        @Test func pipelinedRequestsOfEveryKindAreAnsweredInOrder() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(client, #"{"id":0,"op":"quote","symbol":"MSFT","last":"400"}"#)
            var lines: [String] = []
            for id in 1...120 {
                switch id % 6 {
                case 1: lines.append(#"{"id":\#(id),"op":"status"}"#)
                case 2: lines.append(#"{"id":\#(id),"op":"orders","account":"paper"}"#)
                case 3: lines.append(#"{"id":\#(id),"op":"submit","account":"paper","symbol":"MSFT","side":"buy"}"#)
                case 4: lines.append(#"{"id":\#(id),"op":"hello"}"#)
                default:
                    // Every submit after the first of each pair repeats the one before: a duplicate.
                    let coid = "mix-\((id + 1) / 6)"
                    lines.append(
                        #"{"id":\#(id),"op":"submit","account":"paper","symbol":"MSFT","side":"buy","qty":"1","client_order_id":"\#(coid)"}"#
                    )
                }
            }
            try client.send(lines.joined(separator: "\n"))
            var answers: [[String: Any]] = []
            while answers.count < lines.count, let answer = try client.readObject() { answers.append(answer) }
            #expect(answers.map { $0["id"] as? Int ?? -1 } == Array(1...120))
            for (index, answer) in answers.enumerated() {
                let id = index + 1
                switch id % 6 {
                case 1: #expect(answer["seq"] != nil, "status \(id)")
                case 2: #expect(answer["orders"] != nil, "orders \(id)")
                case 3:
                    let error = answer["error"] as? [String: Any]
                    #expect(error?["code"] as? String == "bad_request", "submit without qty \(id)")
                case 4: #expect(answer["server"] != nil, "hello \(id)")
                case 5:
                    #expect((answer["order"] as? [String: Any])?["status"] as? String == "accepted", "first \(id)")
                    #expect(answer["duplicate"] as? Bool == false)
                default:
                    let first = (answers[index - 1]["order"] as? [String: Any])?["order_id"] as? String
                    #expect(answer["duplicate"] as? Bool == true, "duplicate \(id)")
                    #expect((answer["order"] as? [String: Any])?["order_id"] as? String == first)
                }
            }
            #expect(await daemon.stop() == 0)
        }
    }
}
