import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// The real gatewayd with an Alpaca account pointed at the loopback fakes: an order goes out with
    /// the gateway's id as Alpaca's client_order_id, a fill on the stream comes back as a journaled fill,
    /// and the key and secret appear in no log line and no journal byte.
    @Suite(.timeLimit(.minutes(2)))
    struct AlpacaEndToEndTests {
        /// Credential files and a config with one Alpaca account pointed at the fakes.
        static func configure(_ daemon: Daemon, rest: FakeAlpaca, stream: FakeAlpacaStream) throws {
            let credentials = daemon.folder + "/credentials"
            try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
            try (rest.keyID + "\n").write(toFile: credentials + "/alpaca-key-id", atomically: true, encoding: .utf8)
            try rest.secret.write(toFile: credentials + "/alpaca-secret", atomically: true, encoding: .utf8)
            try """
            metrics_listen: off
            socket: \(daemon.socketPath)
            journal: \(daemon.journalPath)
            credentials_dir: \(credentials)
            accounts:
              - name: alpaca-paper
                broker: alpaca
                starting_cash: "100000"
                alpaca:
                  rest_url: \(rest.url)
                  stream_url: \(stream.url)
                  key_id_credential: alpaca-key-id
                  secret_credential: alpaca-secret
            """.write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        }

        @Test func anOrderGoesToAlpacaAndItsFillComesBack() async throws {
            let rest = try await FakeAlpaca(keyID: "PKE2EKEYID0001", secret: "e2e-secret-never-logged")
            let stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: rest.secret)
            let daemon = Daemon()
            try Self.configure(daemon, rest: rest, stream: stream)
            try #require(try await daemon.launch(["--config", daemon.configPath]), "did not start:\n\(daemon.log)")

            let client = try ControlClient(socketPath: daemon.socketPath)
            let accepted = try client.request(
                "submit",
                [
                    "account": "alpaca-paper", "client_order_id": "e2e-1", "symbol": "AAPL", "side": "buy", "qty": "2",
                    "type": "limit", "limit_price": "150", "tif": "day",
                ])
            let orderID = try #require(accepted.order["order_id"] as? String, "\(accepted)")
            let post = await rest.server.firstRequest { $0.method == "POST" }
            #expect(post.json?["client_order_id"] as? String == orderID)
            #expect(post.json?["limit_price"] as? String == "150")

            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"]])
            rest.set(clientOrderID: orderID, status: "filled", filledQty: "2", avgPrice: "149.95")
            let order = try #require(rest.json(ofOrder: orderID))
            stream.push(
                update:
                    #"{"event":"fill","execution_id":"e2e-exec-1","timestamp":"2026-12-02T15:00:00Z","price":"149.95","qty":"2","position_qty":"2","order":\#(order)}"#
            )
            let fill = try #require(try watcher.readObject())
            #expect(fill["event"] as? String == "fill")
            let body = fill["fill"] as? [String: Any] ?? [:]
            #expect(body["qty"] as? String == "2")
            #expect(body["price"] as? String == "149.95")
            #expect(body["fill_id"] as? String == "e2e-exec-1")
            let orders = try client.request("orders", ["status": "all"])["orders"] as? [[String: Any]] ?? []
            #expect(orders.first?["status"] as? String == "filled", "\(orders)")
            #expect(orders.first?["broker_order_id"] as? String == rest.orders.first?["id"] as? String)

            #expect(await daemon.stop() == 0)
            let journal = try String(
                decoding: Data(contentsOf: URL(fileURLWithPath: daemon.journalPath)), as: UTF8.self)
            for secret in [rest.secret, rest.keyID] {
                #expect(!daemon.log.contains(secret))
                #expect(!journal.contains(secret))
            }
            await rest.shutdown()
            await stream.shutdown()
        }

        /// A call spread and a bracket through the socket: each reaches Alpaca as one order of its class;
        /// the spread's fill comes back as one fill per leg and a position in each contract.
        @Test func aSpreadAndABracketGoToAlpacaAsOneOrderEach() async throws {
            let rest = try await FakeAlpaca()
            let stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: rest.secret)
            let daemon = Daemon()
            try Self.configure(daemon, rest: rest, stream: stream)
            try #require(try await daemon.launch(["--config", daemon.configPath]), "did not start:\n\(daemon.log)")
            let client = try ControlClient(socketPath: daemon.socketPath)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"]])

            let spread = try client.request(
                "submit",
                [
                    "account": "alpaca-paper", "client_order_id": "spread-1", "qty": "2", "type": "limit",
                    "limit_price": "1.20", "tif": "day",
                    "legs": [
                        ["symbol": "AAPL  261218C00200000", "side": "buy_to_open", "ratio": 1],
                        ["symbol": "AAPL  261218C00210000", "side": "sell_to_open", "ratio": 1],
                    ],
                ])
            let spreadID = try #require(spread.order["order_id"] as? String, "\(spread)")
            #expect(spread.order["order_class"] as? String == "mleg")
            #expect(spread.order["symbol"] as? String == "AAPL")
            let post = await rest.server.firstRequest { $0.method == "POST" }
            #expect(post.json?["order_class"] as? String == "mleg")
            #expect(post.json?["symbol"] == nil)
            #expect(
                (post.json?["legs"] as? [[String: Any]])?.map { $0["symbol"] as? String } == [
                    "AAPL261218C00200000", "AAPL261218C00210000",
                ])
            let execution = try #require(
                rest.executeSpread(
                    clientOrderID: spreadID, qty: "2",
                    legPrices: ["AAPL261218C00200000": "5.10", "AAPL261218C00210000": "3.90"], executionID: "sp-1"))
            stream.push(update: execution)
            let legFills = [try watcher.readObject(), try watcher.readObject()].compactMap {
                $0?["fill"] as? [String: Any]
            }
            #expect(legFills.map { $0["symbol"] as? String } == ["AAPL  261218C00200000", "AAPL  261218C00210000"])
            #expect(legFills.map { $0["price"] as? String } == ["5.1", "3.9"])
            #expect(legFills.map { $0["spread_fill_id"] as? String } == ["sp-1", "sp-1"])
            let positions =
                try client.request("positions", ["account": "alpaca-paper"])["positions"] as? [[String: Any]] ?? []
            #expect(
                Set(positions.map { "\($0["symbol"] ?? "") \($0["qty"] ?? "")" })
                    == ["AAPL  261218C00200000 2", "AAPL  261218C00210000 -2"])

            let bracket = try client.request(
                "submit",
                [
                    "account": "alpaca-paper", "client_order_id": "br-1", "symbol": "AAPL", "side": "buy", "qty": "5",
                    "type": "limit", "limit_price": "150", "tif": "gtc", "take_profit": ["limit_price": "160"],
                    "stop_loss": ["stop_price": "145"],
                ])
            #expect((bracket["linked_orders"] as? [[String: Any]])?.count == 2, "\(bracket)")
            _ = await rest.server.firstRequest {
                $0.method == "POST" && $0.json?["order_class"] as? String == "bracket"
            }
            let posts = rest.server.requests.filter { $0.method == "POST" }
            #expect(posts.count == 2)
            #expect(posts.last?.json?["order_class"] as? String == "bracket")
            #expect((posts.last?.json?["take_profit"] as? [String: Any])?["limit_price"] as? String == "160")
            #expect((posts.last?.json?["stop_loss"] as? [String: Any])?["stop_price"] as? String == "145")

            #expect(await daemon.stop() == 0)
            await rest.shutdown()
            await stream.shutdown()
        }

        /// Killed after Alpaca took the order and before its answer arrived: after the restart the order
        /// is settled by its client order id, and Alpaca holds exactly one.
        @Test func killedBetweenPostAndAnswerTheOrderIsSettledNotSentAgain() async throws {
            let rest = try await FakeAlpaca()
            let stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: rest.secret)
            let daemon = Daemon()
            try Self.configure(daemon, rest: rest, stream: stream)
            // Held once the start's reconciliation has read Alpaca: the order is the next request.
            try #require(
                try await daemon.launch(["--config", daemon.configPath], until: "engine started"),
                "did not start:\n\(daemon.log)")
            rest.server.hold()
            let client = try ControlClient(socketPath: daemon.socketPath)
            let accepted = try client.request(
                "submit",
                [
                    "account": "alpaca-paper", "client_order_id": "kill-1", "symbol": "AAPL", "side": "buy",
                    "qty": "1", "type": "limit", "limit_price": "150", "tif": "day",
                ])
            let orderID = try #require(accepted.order["order_id"] as? String, "\(accepted)")
            _ = await rest.server.firstRequest { $0.method == "POST" }
            #expect(await daemon.stop(signal: SIGKILL) == -SIGKILL)
            rest.server.release()

            try #require(try await daemon.launch(["--config", daemon.configPath]), "did not restart:\n\(daemon.log)")
            // Every order event from the journal's start, then live ones, until Alpaca's answer is in.
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["order"], "after_seq": 0])
            let changes = try orderChanges(watcher, orderID, until: ["acknowledged", "rejected"])
            #expect(changes.contains("unknown"), "\(changes)")
            #expect(changes.last == "acknowledged", "\(changes)")
            #expect(rest.orders.count == 1)
            #expect(rest.orders.first?["client_order_id"] as? String == orderID)
            #expect(rest.server.requests.filter { $0.method == "POST" }.count == 1)
            #expect(await daemon.stop() == 0)
            await rest.shutdown()
            await stream.shutdown()
        }
    }
}
