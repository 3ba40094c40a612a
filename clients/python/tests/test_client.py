"""Every verb through the synchronous and the asyncio client, against the real gatewayd."""

import asyncio
import queue
import threading
from decimal import Decimal

import pytest

from gateway_client import (AsyncClient, BadRequest, Client, Event, Halted, InvalidState, Order, RiskRejected, UnknownOrder)

ACCOUNT = "paper"


class Follower:
    """Collects `Client.subscribe()` events on a thread; `next()` waits for the next one (10 s guard)."""

    def __init__(self, socket: str, **options):
        self.events: "queue.Queue[Event]" = queue.Queue()
        self.client = Client(socket)
        threading.Thread(target=self._run, args=(options,), daemon=True).start()

    def _run(self, options):
        for event in self.client.subscribe(**options):
            self.events.put(event)

    def next(self, predicate=lambda e: True) -> Event:
        while True:
            event = self.events.get(timeout=10)
            if predicate(event):
                return event

    def order(self, order_id: str, status: str) -> Order:
        event = self.next(lambda e: e.kind == "order" and e.order.order_id == order_id and e.order.status == status)
        return event.order


def test_every_verb_through_the_sync_client(daemon):
    with Client(daemon.socket) as gw:
        hello = gw.hello(client="pytest")
        assert hello["accounts"] == [ACCOUNT] and hello["protocol"] == 1
        quote = gw.quote("AAPL", bid="190", ask=Decimal("190.05"), ask_size=500)
        assert quote["ask"] == Decimal("190.05") and quote["symbol"] == "AAPL"
        assert quote["ask_size"] == Decimal(500) and "bid_size" not in quote
        follower = Follower(daemon.socket, after_seq=0)

        bought = gw.submit(ACCOUNT, "AAPL", "buy", 10, client_order_id="py-sync-1", strategy="py", tags=["t1"])
        assert isinstance(bought, Order) and bought.qty == Decimal(10) and not bought.duplicate
        assert gw.submit(ACCOUNT, "AAPL", "buy", 10, client_order_id="py-sync-1").duplicate
        # The fill is journaled, then the order's new totals.
        fill = follower.next(lambda e: e.kind == "fill").fill
        assert fill.price == Decimal("190.05") and fill.order_id == bought.order_id
        filled = follower.order(bought.order_id, "filled")
        assert filled.avg_fill_price == Decimal("190.05") and filled.filled_qty == Decimal(10)

        [position] = gw.positions(ACCOUNT)
        assert position.symbol == "AAPL" and position.qty == Decimal(10) and position.avg_price == Decimal("190.05")
        account = gw.account(ACCOUNT)
        assert account.cash == Decimal("98099.5") and account.trading_state == "active"

        resting = gw.submit(ACCOUNT, "AAPL", "buy", 5, type="limit", limit_price="180")
        follower.order(resting.order_id, "acknowledged")
        assert [o.order_id for o in gw.orders(ACCOUNT)] == [resting.order_id]
        replaced = gw.replace(ACCOUNT, order_id=resting.order_id, limit_price="181")
        assert replaced.limit_price == Decimal(181) and replaced.replaces_order_id == resting.order_id
        follower.order(replaced.order_id, "acknowledged")
        pending = gw.cancel(ACCOUNT, client_order_id=replaced.client_order_id)
        assert pending.status == "pending_cancel"
        follower.order(replaced.order_id, "canceled")

        another = gw.submit(ACCOUNT, "AAPL", "buy", 1, type="limit", limit_price="180")
        follower.order(another.order_id, "acknowledged")
        assert [o.order_id for o in gw.cancel_all(ACCOUNT)] == [another.order_id]

        signal = gw.signal(ACCOUNT, "py-signal-1", "AAPL", "buy", entry_type="limit", entry_price="190",
                           stop_price="185", strategy="py")
        # 1% of equity over a 5.00 stop: the quantity comes from the account's sizing policy.
        assert signal.entry.qty == Decimal(199) and signal.sizing["method"] == "fixed_fractional"
        assert gw.signal(ACCOUNT, "py-signal-1", "AAPL", "buy", entry_type="limit", entry_price="190",
                         stop_price="185").duplicate

        halted = gw.halt(ACCOUNT, reason="pytest", cancel_open=True)
        assert halted.state == "halted" and halted.account == ACCOUNT and halted.cause == "operator"
        with pytest.raises(Halted):
            gw.submit(ACCOUNT, "AAPL", "buy", 1)
        assert gw.resume(ACCOUNT, state="active").state == "active"
        (reconciliation,) = gw.reconcile(ACCOUNT)
        assert reconciliation["account"] == ACCOUNT and reconciliation["differences"] == []

        gw.quote("AAPL", bid="200", ask="200")
        sold = gw.submit(ACCOUNT, "AAPL", "sell", 10, strategy="py")
        follower.order(sold.order_id, "filled")
        report = gw.report(strategy="py")
        assert report.trades == 1 and report.net_pnl == Decimal("99.5")
        assert report.by_symbol["AAPL"]["trades"] == 1 and report.round_trips[0]["pnl"] == Decimal("99.5")

        with pytest.raises(BadRequest) as no_alerts:  # this daemon's config has no alerts:
            gw.alert_test()
        assert no_alerts.value.field == "destination"

        assert gw.journal_verify()["verified"] is True
        assert gw.journal_verify(state=True)["state"]["matches"] is True
        backup = str(daemon.folder / "copy.sqlite")
        assert gw.journal_backup(backup)["events"] > 0
        assert [e.kind for e in gw.journal(client_order_id="py-sync-1", kinds=["fill"])] == ["fill"]
        events = gw.journal(symbol="AAPL", kinds=["fill"])
        assert [e.kind for e in events] == ["fill", "fill"]
        status = gw.status()
        assert status["accounts"][0]["connection"] == "connected" and status["seq"] >= events[-1].seq


def test_every_verb_through_the_asyncio_client(daemon):
    async def scenario():
        async with AsyncClient(daemon.socket) as gw:
            assert (await gw.hello())["accounts"] == [ACCOUNT]
            await gw.quote("MSFT", bid="400", ask="400.10")
            events = gw.subscribe(after_seq=0, kinds=["order"])

            async def until(order_id, status):
                async for event in events:
                    if event.order.order_id == order_id and event.order.status == status:
                        return event.order

            # Requests may be in flight together on one connection.
            first, second = await asyncio.gather(
                gw.submit(ACCOUNT, "MSFT", "buy", 3, strategy="apy"),
                gw.submit(ACCOUNT, "MSFT", "buy", 2, type="limit", limit_price="390"))
            assert (await asyncio.wait_for(until(first.order_id, "filled"), 10)).avg_fill_price == Decimal("400.10")
            await asyncio.wait_for(until(second.order_id, "acknowledged"), 10)
            replaced = await gw.replace(ACCOUNT, order_id=second.order_id, qty=4)
            assert replaced.qty == Decimal(4)
            await asyncio.wait_for(until(replaced.order_id, "acknowledged"), 10)
            assert (await gw.cancel(ACCOUNT, order_id=replaced.order_id)).status == "pending_cancel"
            assert await gw.cancel_all() == []
            assert [o.status for o in await gw.orders(ACCOUNT, status="all")].count("filled") == 1
            assert (await gw.positions())[0].qty == Decimal(3)
            assert (await gw.account(ACCOUNT)).equity > 0
            signal = await gw.signal(ACCOUNT, "apy-1", "MSFT", "buy", qty=1, entry_type="limit", entry_price="390")
            assert signal.entry.qty == Decimal(1)
            assert (await gw.halt(reason="async")).scope == "gateway"
            assert (await gw.resume(state="reducing")).state == "reducing"
            assert (await gw.resume()).state == "active"
            assert (await gw.journal(kinds=["quote"], limit=1))[0].kind == "quote"
            assert (await gw.report(account=ACCOUNT)).trades == 0
            assert (await gw.status())["server"] == "gatewayd"
            with pytest.raises(UnknownOrder):
                await gw.cancel(ACCOUNT, order_id="nope")
            with pytest.raises(InvalidState):
                await gw.cancel(ACCOUNT, order_id=first.order_id)
            await events.aclose()

    asyncio.run(scenario())


def test_a_risk_rejection_lists_every_failing_check(daemon):
    with Client(daemon.socket) as gw:
        gw.quote("AAPL", last="100")
        with pytest.raises(RiskRejected) as refused:
            gw.submit(ACCOUNT, "AAPL", "buy", 5000, type="limit", limit_price="100")
        assert refused.value.code == "risk_rejected"
        assert [c["check"] for c in refused.value.checks] == ["max_order_qty"]
        assert refused.value.checks[0]["limit"] == "1000"


def test_extended_hours_and_quote_volume(daemon):
    with Client(daemon.socket) as gw:
        quote = gw.quote("MSFT", bid="400", ask="400.2", volume=1500)
        assert quote["volume"] == Decimal(1500)
        resting = gw.submit(ACCOUNT, "MSFT", "buy", 1, type="limit", limit_price="399", extended_hours=True)
        assert resting.extended_hours and resting.status == "accepted"
        assert not gw.submit(ACCOUNT, "MSFT", "buy", 1, type="limit", limit_price="399").extended_hours
        try:
            gw.submit(ACCOUNT, "MSFT", "buy", 1, extended_hours=True)
            raise AssertionError("a market order with extended_hours was taken")
        except BadRequest as error:
            assert error.field == "extended_hours" and "limit orders with tif day or gtc" in str(error)
