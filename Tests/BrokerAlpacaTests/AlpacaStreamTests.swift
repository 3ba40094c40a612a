import Foundation
import GatewayCore
import GatewayTesting
import Logging
import Synchronization
import Testing

@testable import BrokerAlpaca

/// The trade_updates conversation against the loopback stream: authenticate, listen, updates in order
/// from binary or text frames, refused credentials, a dropped connection.
@Suite(.timeLimit(.minutes(1))) struct AlpacaStreamTests {
    static let fill = """
        {"event":"fill","execution_id":"exec-1","timestamp":"2026-12-02T14:30:05.024916716Z","price":"150.01",
         "qty":"2","position_qty":"2","order":{"id":"00000000-0000-4000-8000-000000000001","client_order_id":"ord-1",
         "status":"filled","filled_qty":"2","filled_avg_price":"150.01","qty":"2","symbol":"AAPL","side":"buy",
         "type":"limit"}}
        """

    final class Seen: Sendable {
        let updates = Mutex<[AlpacaTradeUpdate]>([])
        let (listening, listened) = AsyncStream.makeStream(of: Void.self)
        let (arrived, arrival) = AsyncStream.makeStream(of: AlpacaTradeUpdate.self)
    }

    func stream(_ fake: FakeAlpacaStream, secret: String? = nil) -> AlpacaStream {
        AlpacaStream(
            url: fake.url, keyID: fake.keyID, secret: secret ?? fake.secret, logger: Logger(label: "alpaca-test"))
    }

    func run(_ stream: AlpacaStream, _ seen: Seen) -> Task<AlpacaStreamEnd?, Never> {
        Task {
            do {
                try await stream.run(onListening: { seen.listened.yield() }, onUpdate: { seen.arrival.yield($0) })
                return nil
            } catch let end as AlpacaStreamEnd {
                return end
            } catch {
                return .closed("\(error)")
            }
        }
    }

    @Test(arguments: [true, false]) func listensThenHandsOnEachUpdate(binary: Bool) async throws {
        let fake = try await FakeAlpacaStream()
        if !binary { fake.sendText() }
        let seen = Seen()
        let running = run(stream(fake), seen)
        for await _ in seen.listening { break }
        #expect(fake.received.first?.contains(#""action":"authenticate""#) == true)
        #expect(fake.received.last == #"{"action":"listen","data":{"streams":["trade_updates"]}}"#)
        fake.push(update: Self.fill)
        fake.push(update: Self.fill.replacingOccurrences(of: "exec-1", with: "exec-2"))
        var updates: [AlpacaTradeUpdate] = []
        for await update in seen.arrived {
            updates.append(update)
            if updates.count == 2 { break }
        }
        #expect(updates.map(\.executionID) == ["exec-1", "exec-2"])
        #expect(updates.first?.event == "fill")
        #expect(updates.first?.price == "150.01")
        #expect(updates.first?.order.clientOrderID == "ord-1")
        #expect(updates.first?.order.gatewayStatus == .filled)
        fake.dropAll()
        let end = await running.value
        if case .closed = end {} else { Issue.record("a dropped connection ended as \(String(describing: end))") }
        await fake.shutdown()
    }

    @Test func refusedCredentialsEndTheStreamForGood() async throws {
        let fake = try await FakeAlpacaStream()
        let running = run(stream(fake, secret: "wrong"), Seen())
        #expect(await running.value == .unauthorized)
        await fake.shutdown()
    }
}
