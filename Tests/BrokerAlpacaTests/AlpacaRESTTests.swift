import BrokerAPI
import Foundation
import GatewayCore
import GatewayTesting
import Synchronization
import Testing

@testable import BrokerAlpaca

/// The REST client against the loopback fake: what reaches Alpaca, what comes back, and how each kind
/// of failure is told to the engine. Waits are recorded, never slept.
@Suite struct AlpacaRESTTests {
    final class Waits: Sendable {
        let taken = Mutex<[Duration]>([])
        var all: [Duration] { taken.withLock { $0 } }
    }

    func client(_ fake: FakeAlpaca, secret: String? = nil, waits: Waits = Waits()) -> AlpacaREST {
        AlpacaREST(
            base: URL(string: fake.url)!, keyID: fake.keyID, secret: secret ?? fake.secret,
            sleep: { duration in waits.taken.withLock { $0.append(duration) } })
    }

    @Test func anOrderReachesAlpacaWithTheCredentialsAndComesBackAccepted() async throws {
        let fake = try await FakeAlpaca()
        let placed = try await client(fake).submit(AlpacaOrderRequest(order("ord-7", tif: .day)))
        #expect(placed.clientOrderID == "ord-7")
        #expect(placed.gatewayStatus == .acknowledged)
        let sent = try #require(fake.server.requests.last)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/v2/orders")
        #expect(sent.headers["apca-api-key-id"] == fake.keyID)
        #expect(sent.headers["apca-api-secret-key"] == fake.secret)
        #expect(sent.headers["content-type"] == "application/json")
        expectFields(
            try #require(sent.json),
            [
                "symbol": "AAPL", "qty": "2", "side": "buy", "type": "limit", "time_in_force": "day",
                "limit_price": "150", "client_order_id": "ord-7",
            ])
        let found = try #require(try await client(fake).order(clientOrderID: "ord-7"))
        #expect(found.id == placed.id)
        #expect(try await client(fake).order(clientOrderID: "never-sent") == nil)
        await fake.shutdown()
    }

    @Test func alpacaItselfRefusesASecondOrderWithTheSameID() async throws {
        let fake = try await FakeAlpaca()
        _ = try await client(fake).submit(AlpacaOrderRequest(order("dup-1")))
        do {
            _ = try await client(fake).submit(AlpacaOrderRequest(order("dup-1")))
            Issue.record("a reused client_order_id was taken")
        } catch {
            #expect(error.kind == .nonRetryable)
            #expect(error.message.contains("client_order_id must be unique"))
        }
        #expect(fake.orders.count == 1)
        await fake.shutdown()
    }

    @Test func aRateLimitIsWaitedOutAsAlpacaAsks() async throws {
        let fake = try await FakeAlpaca()
        let waits = Waits()
        fake.rateLimit(next: 2, retryAfter: 2)
        let placed = try await client(fake, waits: waits).submit(AlpacaOrderRequest(order("rl-1")))
        #expect(placed.clientOrderID == "rl-1")
        #expect(waits.all == [.seconds(2), .seconds(2)])
        #expect(fake.orders.count == 1)
        fake.rateLimit(next: 3, retryAfter: 1)
        do {
            _ = try await client(fake, waits: waits).submit(AlpacaOrderRequest(order("rl-2")))
            Issue.record("three 429s in a row were not reported")
        } catch {
            #expect(error.kind == .retryable)
            #expect(error.code == "rate_limited")
        }
        await fake.shutdown()
    }

    /// Alpaca took the order but the answer was a 500: the engine hears "unknown outcome", asks by
    /// client order id, and finds exactly one order.
    @Test func aServerErrorAfterSendingIsAnUnknownOutcomeAndTheOrderIsFoundByItsID() async throws {
        let fake = try await FakeAlpaca()
        fake.acceptThenFailNextOrder()
        do {
            _ = try await client(fake).submit(AlpacaOrderRequest(order("lost-1")))
            Issue.record("a 500 after sending was not reported")
        } catch {
            #expect(error.kind == .unknownOutcome)
        }
        let found = try #require(try await client(fake).order(clientOrderID: "lost-1"))
        #expect(found.gatewayStatus == .acknowledged)
        #expect(fake.orders.count == 1)
        await fake.shutdown()
    }

    /// Alpaca takes the order and answers too late: the request's timeout makes it an unknown outcome,
    /// and the order is then found by its client order id — once.
    @Test func aSlowAnswerAfterSendingIsAnUnknownOutcome() async throws {
        let fake = try await FakeAlpaca()
        fake.server.hold()
        let slow = AlpacaREST(base: URL(string: fake.url)!, keyID: fake.keyID, secret: fake.secret, timeout: 1)
        do {
            _ = try await slow.submit(AlpacaOrderRequest(order("slow-1")))
            Issue.record("a request that timed out was reported as done")
        } catch {
            #expect(error.kind == .unknownOutcome, "\(error)")
            #expect(!error.description.contains(fake.secret))
        }
        fake.server.release()
        #expect(try await client(fake).order(clientOrderID: "slow-1")?.clientOrderID == "slow-1")
        #expect(fake.orders.count == 1)
        await fake.shutdown()
    }

    /// The budget of requests a minute is kept before Alpaca has to say 429: the fourth request in a
    /// minute of a budget of three waits for the first one's minute to pass.
    @Test func theRequestBudgetIsKeptBeforeAlpacaRefuses() async throws {
        let fake = try await FakeAlpaca()
        let waits = Waits()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let rest = AlpacaREST(
            base: URL(string: fake.url)!, keyID: fake.keyID, secret: fake.secret, requestsPerMinute: 3,
            sleep: { duration in waits.taken.withLock { $0.append(duration) } },
            now: { start.addingTimeInterval(Double(waits.all.count)) })
        for _ in 0..<3 { _ = try await rest.account() }
        #expect(waits.all.isEmpty)
        _ = try await rest.account()
        #expect(waits.all == [.seconds(60)])
        await fake.shutdown()
    }

    @Test func fillActivitiesAreReadPageByPage() async throws {
        let fake = try await FakeAlpaca()
        let rest = client(fake)
        _ = try await rest.submit(AlpacaOrderRequest(order("a-1", qty: "3")))
        fake.execute(clientOrderID: "a-1", qty: "1", price: "150", executionID: "e1")
        fake.execute(clientOrderID: "a-1", qty: "1", price: "151", executionID: "e2")
        fake.execute(clientOrderID: "a-1", qty: "1", price: "152", executionID: "e3")
        fake.pageActivities(by: 2)
        let fills = try await rest.fills(after: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(fills.map(\.price) == ["150", "151", "152"])
        #expect(fills.map(\.cumQty) == ["1", "2", "3"])
        #expect(Set(fills.map(\.orderID)).count == 1)
        let paged = fake.server.requests.filter { $0.uri.hasPrefix("/v2/account/activities/FILL") }
        #expect(paged.count == 3)  // two full pages of two, then an empty one ends it
        #expect(paged.first?.uri.contains("after=2027-01-15T08:00:00.000Z") == true, "\(paged.first?.uri ?? "")")
        let order = try #require(try await rest.order(clientOrderID: "a-1"))
        #expect(order.gatewayStatus == .filled)
        #expect(order.filledAvgPrice == "151")
        await fake.shutdown()
    }

    @Test func wrongCredentialsAreFatalAndNeverEchoed() async throws {
        let fake = try await FakeAlpaca()
        do {
            _ = try await client(fake, secret: "wrong-secret-value").account()
            Issue.record("wrong credentials were taken")
        } catch {
            #expect(error.kind == .fatal)
            #expect(!error.description.contains("wrong-secret-value"))
            #expect(!error.description.contains(fake.secret))
        }
        await fake.shutdown()
    }

    @Test func aRefusedConnectionBeforeSendingIsRetryable() async throws {
        // A port that stays bound and never listens: a stopped server's port could be taken meanwhile by
        // a test running in parallel, and this test then saw a connection that sent nothing back.
        let nobody = try RefusingPort()
        let closed = AlpacaREST(base: URL(string: nobody.url)!, keyID: "k", secret: "s")
        do {
            _ = try await closed.submit(AlpacaOrderRequest(order("nobody-home")))
            Issue.record("a refused connection was not reported")
        } catch {
            #expect(error.kind == .retryable, "\(error)")
        }
        withExtendedLifetime(nobody) {}
    }

    @Test func cancelAccountPositionsAndOpenOrders() async throws {
        let fake = try await FakeAlpaca()
        let rest = client(fake)
        let placed = try await rest.submit(AlpacaOrderRequest(order("c-1")))
        _ = try await rest.submit(AlpacaOrderRequest(order("c-2")))
        fake.set(clientOrderID: "c-2", status: "filled", filledQty: "2")
        #expect(try await rest.openOrders().map(\.clientOrderID) == ["c-1"])
        try await rest.cancel(alpacaID: placed.id)
        #expect(try await rest.order(clientOrderID: "c-1")?.gatewayStatus == .pendingCancel)
        let filled = try #require(try await rest.order(clientOrderID: "c-2"))
        do {
            try await rest.cancel(alpacaID: filled.id)
            Issue.record("cancelling a filled order was taken")
        } catch {
            #expect(error.kind == .nonRetryable)
        }
        let account = try await rest.account()
        #expect(account.buyingPower == "200000")
        fake.setPositions([["symbol": "AAPL", "qty": "-5", "avg_entry_price": "150.25"]])
        #expect(try await rest.positions().map(\.qty) == ["-5"])
        await fake.shutdown()
    }
}
