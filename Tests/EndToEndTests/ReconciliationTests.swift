import ControlProtocol
import Foundation
import GatewayTesting
import Testing

extension EndToEnd {
    /// Reconciliation through the real gatewayd, against the paper broker and the fake Alpaca: fills
    /// made while the gateway was down or lost from the stream are journaled exactly once, orders placed
    /// outside the gateway are adopted or halt the account, a position changed behind the gateway's back
    /// is found by the next periodic comparison, and an order whose submit failed is settled, never sent
    /// twice.
    @Suite(.timeLimit(.minutes(2)))
    struct ReconciliationTests {
        /// A daemon with one Alpaca account pointed at the fakes, with `reconcile` settings.
        static func alpacaDaemon(
            _ rest: FakeAlpaca, _ stream: FakeAlpacaStream, reconcile: [String] = []
        ) throws -> Daemon {
            let daemon = Daemon()
            try AlpacaEndToEndTests.configure(daemon, rest: rest, stream: stream)
            if !reconcile.isEmpty {
                let block = "\n    reconcile:\n" + reconcile.map { "      " + $0 }.joined(separator: "\n") + "\n"
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.configPath))
                handle.seekToEndOfFile()
                handle.write(Data(block.utf8))
                try handle.close()
            }
            return daemon
        }

        /// The fake Alpaca's REST API and stream, and a daemon pointed at them, started.
        struct AlpacaBed {
            let rest: FakeAlpaca
            let stream: FakeAlpacaStream
            let daemon: Daemon

            static func started(reconcile: [String] = []) async throws -> AlpacaBed {
                let rest = try await FakeAlpaca()
                let stream = try await FakeAlpacaStream(keyID: rest.keyID, secret: rest.secret)
                let daemon = try ReconciliationTests.alpacaDaemon(rest, stream, reconcile: reconcile)
                try await ReconciliationTests.launch(daemon)
                return AlpacaBed(rest: rest, stream: stream, daemon: daemon)
            }

            /// Stops the daemon (it must exit 0) and the fakes.
            func close() async {
                #expect(await daemon.stop() == 0)
                await rest.shutdown()
                await stream.shutdown()
            }
        }

        /// Starts the daemon and returns once its start reconciliation is done (the engine started).
        static func launch(_ daemon: Daemon) async throws {
            try #require(
                try await daemon.launch(["--config", daemon.configPath], until: "engine started"),
                "did not start:\n\(daemon.log)")
        }

        static func submit(
            _ client: ControlClient, _ id: String, account: String, symbol: String = "AAPL", qty: String = "2",
            limit: String = "150"
        ) throws -> String {
            let answer = try client.request(
                "submit",
                [
                    "account": account, "client_order_id": id, "symbol": symbol, "side": "buy", "qty": qty,
                    "type": "limit", "limit_price": limit, "tif": "day",
                ])
            return try #require(answer.order["order_id"] as? String, "\(answer)")
        }

        /// Reads pushed events until one satisfies `match`.
        static func next(_ watcher: ControlClient, _ match: ([String: Any]) -> Bool) throws -> [String: Any] {
            while let event = try watcher.readObject() {
                if match(event) { return event }
            }
            throw ControlClient.Failure.io("the event stream ended")
        }

        static func fills(_ client: ControlClient, of orderID: String) throws -> [[String: Any]] {
            let events =
                try client.request("journal", ["kinds": ["fill"], "limit": 10_000])["events"] as? [[String: Any]] ?? []
            return events.compactMap { $0["fill"] as? [String: Any] }.filter { $0["order_id"] as? String == orderID }
        }

        static func differences(_ client: ControlClient) throws -> [[String: Any]] {
            try client.request("journal", ["kinds": ["reconciliation"], "limit": 10_000])["events"] as? [[String: Any]]
                ?? []
        }

        static func tradingState(_ client: ControlClient, _ account: String) throws -> String? {
            let status = try client.request("status")
            let accounts = status["accounts"] as? [[String: Any]] ?? []
            return accounts.first { $0["account"] as? String == account }?["trading_state"] as? String
        }

        // MARK: The operator's view

        @Test func gatewayctlReconcilesAndABadPolicyIsRefusedByName() async throws {
            let daemon = try await startedDaemon()
            let ctl = Daemon.binaryFolder + "/gatewayctl"
            let clean = try await Daemon.run(ctl, ["reconcile", "--socket", daemon.socketPath])
            #expect(clean.status == 0, "\(clean.err)")
            #expect(
                clean.out.contains("paper: 0 open orders and 0 positions at the broker; no differences"), "\(clean.out)"
            )
            let unknown = try await Daemon.run(ctl, ["reconcile", "--account", "nope", "--socket", daemon.socketPath])
            #expect(unknown.status == 1 && unknown.err.contains("no account named 'nope'"), "\(unknown.err)")
            #expect(await daemon.stop() == 0)

            let bad = daemon.folder + "/bad.yaml"
            try """
            accounts:
              - name: paper
                broker: paper
                reconcile: {every_seconds: -1, external_orders: maybe, position_mismatch: halt, period: 5}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
            let refused = try await Daemon.run(Daemon.binaryFolder + "/gatewayd", ["--check-config", bad])
            #expect(refused.status == 78)
            for problem in [
                "accounts[0].reconcile.every_seconds: '-1' is not a whole number of zero or more",
                "accounts[0].reconcile.external_orders: 'maybe' is not adopt, alert or halt",
                "accounts[0].reconcile: unknown key 'period'",
            ] {
                #expect(refused.err.contains(problem), "\(refused.err)")
            }
        }

        // MARK: Fills while the gateway is down

        @Test func anAlpacaFillWhileTheGatewayIsDownIsJournaledOnceAfterRestart() async throws {
            let bed = try await AlpacaBed.started()
            let (rest, daemon) = (bed.rest, bed.daemon)
            let client = try ControlClient(socketPath: daemon.socketPath)
            let orderID = try Self.submit(client, "down-1", account: "alpaca-paper")
            _ = await rest.server.firstRequest { $0.method == "POST" }
            #expect(await daemon.stop() == 0)

            // Alpaca fills the order while the gateway is stopped.
            rest.execute(clientOrderID: orderID, qty: "2", price: "149.5", executionID: "while-down-1")
            try await Self.launch(daemon)
            let again = try ControlClient(socketPath: daemon.socketPath)
            let fills = try Self.fills(again, of: orderID)
            #expect(fills.count == 1, "\(fills)")
            #expect(fills.first?["qty"] as? String == "2" && fills.first?["price"] as? String == "149.5")
            let found = try Self.differences(again)
            #expect(
                found.contains { $0["difference"] as? String == "fill_missing" && $0["order_id"] as? String == orderID }
            )
            #expect(!found.contains { $0["difference"] as? String == "position_mismatch" }, "\(found)")
            #expect(try Self.tradingState(again, "alpaca-paper") == "active")
            #expect(await daemon.stop() == 0)

            // A second restart finds the fill journaled and journals it no second time.
            try await Self.launch(daemon)
            let third = try ControlClient(socketPath: daemon.socketPath)
            #expect(try Self.fills(third, of: orderID).count == 1)
            let positions = try third.request("positions", ["account": "alpaca-paper"])["positions"] as? [[String: Any]]
            #expect(positions?.first?["qty"] as? String == "2", "\(String(describing: positions))")
            await bed.close()
        }

        @Test func aPaperFillWhileTheGatewayIsDownIsJournaledOnceAfterRestart() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath)
            let orderID = try Self.submit(client, "paper-down-1", account: "paper", qty: "3", limit: "10")
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["order"], "after_seq": 0])
            _ = try Self.next(watcher) {
                $0.order["order_id"] as? String == orderID && $0["change"] as? String == "acknowledged"
            }
            #expect(await daemon.stop() == 0)

            // The paper broker outlives the gateway in its ledger: it fills the order while the gateway is down.
            let fill =
                #"{"filled":{"_0":{"commission":"0","fillID":"\#(orderID)-f1","orderID":"\#(orderID)","#
                + #""price":"9.95","qty":"3","ts":"2026-12-02T15:00:00Z"}}}"# + "\n"
            let ledger = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.ledgerPath))
            ledger.seekToEndOfFile()
            ledger.write(Data(fill.utf8))
            try ledger.close()

            try await Self.launch(daemon)
            let again = try ControlClient(socketPath: daemon.socketPath)
            let fills = try Self.fills(again, of: orderID)
            #expect(fills.count == 1 && fills.first?["price"] as? String == "9.95", "\(fills)")
            let found = try Self.differences(again)
            #expect(
                found.contains { $0["difference"] as? String == "fill_missing" && $0["order_id"] as? String == orderID }
            )
            #expect(try Self.tradingState(again, "paper") == "active", "\(found)")
            #expect(await daemon.stop() == 0)
            try await Self.launch(daemon)
            #expect(try Self.fills(try ControlClient(socketPath: daemon.socketPath), of: orderID).count == 1)
            #expect(await daemon.stop() == 0)
        }

        // MARK: Orders placed outside the gateway

        @Test func anOrderPlacedAtAlpacaIsAdoptedAndItsFillJournaled() async throws {
            let bed = try await AlpacaBed.started(reconcile: ["every_seconds: 1"])
            let (rest, stream, daemon) = (bed.rest, bed.stream, bed.daemon)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["reconciliation", "fill"], "after_seq": 0])

            rest.placeExternal(clientOrderID: "by-hand-1", symbol: "AAPL", side: "buy", qty: "3", limitPrice: "140")
            let adopted = try Self.next(watcher) { $0["difference"] as? String == "external_order" }
            #expect(adopted["action"] as? String == "adopted", "\(adopted)")
            #expect(adopted["trigger"] as? String == "periodic")
            let client = try ControlClient(socketPath: daemon.socketPath)
            let orders = try client.request("orders", ["account": "alpaca-paper"])["orders"] as? [[String: Any]] ?? []
            let order = try #require(orders.first { $0["client_order_id"] as? String == "by-hand-1" }, "\(orders)")
            #expect(order["tags"] as? [String] == ["external"])
            #expect(order["status"] as? String == "acknowledged")

            // Its fill, streamed like any other, is journaled against the adopted order.
            let event = try #require(
                rest.execute(clientOrderID: "by-hand-1", qty: "3", price: "139.9", executionID: "hand-x1"))
            stream.push(update: event)
            let fill = try Self.next(watcher) { $0["event"] as? String == "fill" }
            #expect((fill["fill"] as? [String: Any])?["order_id"] as? String == order["order_id"] as? String)
            // Journal and broker now agree: an operator's reconciliation finds nothing.
            let answer = try client.request("reconcile", ["account": "alpaca-paper"])
            let reconciliation = (answer["reconciliations"] as? [[String: Any]])?.first ?? [:]
            #expect((reconciliation["differences"] as? [Any])?.isEmpty == true, "\(answer)")
            #expect(reconciliation["positions_compared"] as? Bool == true, "\(answer)")
            #expect(try Self.tradingState(client, "alpaca-paper") == "active")
            await bed.close()
        }

        @Test func anOrderPlacedAtAlpacaHaltsTheAccountWhenThePolicySaysHalt() async throws {
            let bed = try await AlpacaBed.started(reconcile: ["every_seconds: 0", "external_orders: halt"])
            let (rest, daemon) = (bed.rest, bed.daemon)
            let client = try ControlClient(socketPath: daemon.socketPath)
            rest.placeExternal(
                clientOrderID: "other-program-1", symbol: "MSFT", side: "sell", qty: "1", limitPrice: "400")

            let answer = try client.request("reconcile", [:])
            let differences = (answer["reconciliations"] as? [[String: Any]])?.first?["differences"] as? [[String: Any]]
            let external = try #require(differences?.first, "\(answer)")
            #expect(external["difference"] as? String == "external_order")
            #expect(external["action"] as? String == "halted")
            #expect(external["broker"] as? String == "sell 1 MSFT limit")
            #expect(try Self.tradingState(client, "alpaca-paper") == "halted")
            let refused = try client.request(
                "submit",
                [
                    "account": "alpaca-paper", "symbol": "AAPL", "side": "buy", "qty": "1", "type": "limit",
                    "limit_price": "1", "tif": "day",
                ])
            #expect(refused.errorCode == "halted", "\(refused)")
            let states = try client.request("journal", ["kinds": ["trading_state"]])["events"] as? [[String: Any]]
            #expect(states?.last?["cause"] as? String == "reconciliation", "\(String(describing: states))")
            // Not adopted: the journal holds no order of it.
            let orders = try client.request("orders", ["status": "all"])["orders"] as? [[String: Any]] ?? []
            #expect(orders.isEmpty, "\(orders)")
            await bed.close()
        }

        @Test func anOrderAtThePaperBrokerThatTheJournalLacksIsAdoptedAtStart() async throws {
            let daemon = try await startedDaemon()
            let client = try ControlClient(socketPath: daemon.socketPath)
            let orderID = try Self.submit(client, "elsewhere-1", account: "paper", qty: "4", limit: "20")
            _ = try client.request("orders", [:])
            #expect(await daemon.stop() == 0)
            // Another journal (another program) on the same broker account: the order is not in it.
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: daemon.journalPath + suffix)
            {
                try FileManager.default.moveItem(
                    atPath: daemon.journalPath + suffix, toPath: daemon.folder + "/first" + suffix)
            }
            try await Self.launch(daemon)
            let again = try ControlClient(socketPath: daemon.socketPath)
            let found = try Self.differences(again)
            #expect(found.first?["difference"] as? String == "external_order", "\(found)")
            #expect(found.first?["action"] as? String == "adopted")
            #expect(found.first?["trigger"] as? String == "start")
            let orders = try again.request("orders", [:])["orders"] as? [[String: Any]] ?? []
            let adopted = try #require(orders.first { $0["order_id"] as? String == orderID }, "\(orders)")
            #expect(adopted["tags"] as? [String] == ["external"])
            // It fills at the broker like any order, and the fill is journaled against it.
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill"]])
            _ = try again.request("quote", ["symbol": "AAPL", "bid": "19.8", "ask": "19.9"])
            let fill = try Self.next(watcher) { _ in true }
            #expect((fill["fill"] as? [String: Any])?["order_id"] as? String == orderID, "\(fill)")
            #expect(await daemon.stop() == 0)
        }

        // MARK: Positions

        @Test func aPositionChangedAtAlpacaIsFoundByTheNextPeriodicComparisonAndHalts() async throws {
            let bed = try await AlpacaBed.started(reconcile: ["every_seconds: 1"])
            let (rest, daemon) = (bed.rest, bed.daemon)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["reconciliation", "trading_state"]])

            // Someone buys 5 MSFT in Alpaca's app.
            rest.adjustPosition(symbol: "MSFT", by: "5", price: "300")
            let mismatch = try Self.next(watcher) { $0["event"] as? String == "reconciliation" }
            #expect(mismatch["difference"] as? String == "position_mismatch", "\(mismatch)")
            #expect(mismatch["symbol"] as? String == "MSFT")
            #expect(mismatch["journal"] as? String == "0" && mismatch["broker"] as? String == "5")
            #expect(mismatch["action"] as? String == "halted")
            #expect(mismatch["trigger"] as? String == "periodic")
            let halted = try Self.next(watcher) { $0["event"] as? String == "trading_state" }
            #expect(halted["state"] as? String == "halted" && halted["cause"] as? String == "reconciliation")
            // The difference persists: later comparisons do not journal it again.
            let client = try ControlClient(socketPath: daemon.socketPath)
            let answer = try client.request("reconcile", ["account": "alpaca-paper"])
            #expect(
                ((answer["reconciliations"] as? [[String: Any]])?.first?["differences"] as? [Any])?.count == 1,
                "\(answer)")
            #expect(try Self.differences(client).count == 1)
            await bed.close()
        }

        // MARK: Unknown outcomes and lost frames

        @Test func aSubmitWhoseAnswerWasLostIsSettledWithoutASecondOrder() async throws {
            let bed = try await AlpacaBed.started()
            let (rest, daemon) = (bed.rest, bed.daemon)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["order"]])
            rest.acceptThenFailNextOrder()
            let client = try ControlClient(socketPath: daemon.socketPath)
            let orderID = try Self.submit(client, "lost-answer-1", account: "alpaca-paper")
            let changes = try orderChanges(watcher, orderID, until: ["acknowledged", "rejected"])
            #expect(changes.contains("unknown"), "\(changes)")
            #expect(rest.orders.count == 1)
            #expect(rest.server.requests.filter { $0.method == "POST" }.count == 1)
            await bed.close()
        }

        @Test func aFillFrameTheStreamDroppedIsHealedByTheNextPeriodAndCountedOnce() async throws {
            let bed = try await AlpacaBed.started(reconcile: ["every_seconds: 1"])
            let (rest, stream, daemon) = (bed.rest, bed.stream, bed.daemon)
            let client = try ControlClient(socketPath: daemon.socketPath)
            let watcher = try ControlClient(socketPath: daemon.socketPath)
            _ = try watcher.request("subscribe", ["kinds": ["fill", "reconciliation"]])
            let orderID = try Self.submit(client, "dropped-1", account: "alpaca-paper")
            _ = await rest.server.firstRequest { $0.method == "POST" }

            // Alpaca fills it; the stream's frame never arrives.
            let lost = try #require(
                rest.execute(clientOrderID: orderID, qty: "2", price: "150", executionID: "lost-x1"))
            let fill = try Self.next(watcher) { $0["event"] as? String == "fill" }
            #expect((fill["fill"] as? [String: Any])?["qty"] as? String == "2", "\(fill)")
            let healed = try Self.next(watcher) { $0["event"] as? String == "reconciliation" }
            #expect(healed["difference"] as? String == "fill_missing" && healed["trigger"] as? String == "periodic")
            #expect(healed["order_id"] as? String == orderID)

            // The frame turns up late after all, then another order fills: the late one adds nothing.
            stream.push(update: lost)
            let second = try Self.submit(client, "dropped-2", account: "alpaca-paper", symbol: "MSFT", qty: "1")
            _ = await rest.server.firstRequest { $0.json?["client_order_id"] as? String == second }
            let next = try #require(rest.execute(clientOrderID: second, qty: "1", price: "400", executionID: "x-2"))
            stream.push(update: next)
            let secondFill = try Self.next(watcher) { $0["event"] as? String == "fill" }
            #expect((secondFill["fill"] as? [String: Any])?["order_id"] as? String == second, "\(secondFill)")
            #expect(try Self.fills(client, of: orderID).count == 1)
            #expect(try Self.tradingState(client, "alpaca-paper") == "active")
            await bed.close()
        }
    }
}
