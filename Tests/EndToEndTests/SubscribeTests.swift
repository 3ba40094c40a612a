import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    @Suite(.timeLimit(.minutes(2)))
    struct SubscribeTests {
        @Test func afterSeqReplaysExactlyTheMissedEvents() async throws {
            let daemon = try await startedDaemon()
            let trader = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","after_seq":0}"#)
            _ = try exchange(trader, #"{"id":1,"op":"quote","symbol":"AAPL","last":"100"}"#)
            _ = try exchange(
                trader,
                #"{"id":2,"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"3","client_order_id":"s-1"}"#
            )
            // Read until the first order is filled; remember the last seq seen, then go away.
            var lastSeen = 0
            while let event = try watcher.readObject() {
                lastSeen = event["seq"] as? Int ?? lastSeen
                if event.order["status"] as? String == "filled" { break }
            }
            // Trade while nobody watches.
            _ = try exchange(
                trader,
                #"{"id":3,"op":"submit","account":"paper","symbol":"AAPL","side":"sell","qty":"1","client_order_id":"s-2"}"#
            )
            _ = try exchange(trader, #"{"id":4,"op":"quote","symbol":"AAPL","last":"101"}"#)
            let status = try exchange(trader, #"{"id":5,"op":"journal","after_seq":\#(lastSeen)}"#)
            let missed = (status["events"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
            #expect(!missed.isEmpty)
            let again = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let subscribed = try exchange(again, #"{"id":1,"op":"subscribe","after_seq":\#(lastSeen)}"#)
            #expect(subscribed["ok"] as? Bool == true)
            var replayed: [Int] = []
            while replayed.count < missed.count, let event = try again.readObject() {
                replayed.append(event["seq"] as? Int ?? -1)
            }
            #expect(replayed == missed)
            #expect(replayed.first == lastSeen + 1)
            // Then live events follow without a gap.
            _ = try exchange(trader, #"{"id":6,"op":"quote","symbol":"AAPL","last":"102"}"#)
            let live = try again.readObject()
            #expect(live?["seq"] as? Int == missed.last! + 1)
            #expect(await daemon.stop() == 0)
        }

        /// A live subscription (no `after_seq`) is written by the engine's thread as batches commit: every
        /// event of the kinds asked for, in sequence order, none of the others; subscribing again on the
        /// same connection replaces it (no event twice); the journal has the same events.
        @Test func aLiveSubscriptionCarriesEachEventOfItsKindsOnceInOrder() async throws {
            let daemon = try await startedDaemon()
            let trader = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            let watcher = try ControlClient(socketPath: daemon.socketPath, timeoutSeconds: 60)
            _ = try exchange(watcher, #"{"id":1,"op":"subscribe","kinds":["order"]}"#)
            _ = try exchange(watcher, #"{"id":2,"op":"subscribe","kinds":["fill","quote"]}"#)
            _ = try exchange(trader, #"{"id":1,"op":"quote","symbol":"AAPL","last":"100"}"#)
            for n in 1...20 {
                _ = try exchange(
                    trader,
                    #"{"id":\#(n + 1),"op":"submit","account":"paper","symbol":"AAPL","side":"buy","qty":"1","client_order_id":"live-\#(n)"}"#
                )
            }
            var seen: [(Int, String)] = []
            while seen.filter({ $0.1 == "fill" }).count < 20, let event = try watcher.readObject() {
                seen.append((event["seq"] as? Int ?? -1, event["event"] as? String ?? "?"))
            }
            #expect(Set(seen.map(\.1)) == ["quote", "fill"])
            #expect(seen.map(\.0) == seen.map(\.0).sorted())
            #expect(Set(seen.map(\.0)).count == seen.count)
            let journal = try exchange(trader, #"{"id":99,"op":"journal","kinds":["fill","quote"]}"#)
            let journaled = (journal["events"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
            #expect(seen.map(\.0) == journaled)
            #expect(await daemon.stop() == 0)
        }
    }
}
