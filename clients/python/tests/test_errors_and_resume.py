"""Error mapping for every code, and subscribe() resuming across a daemon restart."""

import asyncio
import json
import socket
import threading
import queue

import pytest

import gateway_client as gc
from gateway_client import Client, AsyncClient, error_from_answer

from conftest import Daemon

ACCOUNT = "paper"


def raw_answer(path: str, line: bytes) -> dict:
    """Sends one raw line and reads one answer, for inputs the client itself would never send."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(line)
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return json.loads(data.split(b"\n")[0])


def test_every_error_code_the_daemon_answers_maps_to_its_exception(daemon):
    with Client(daemon.socket) as gw:
        with pytest.raises(gc.BadRequest) as bad:
            gw.submit(ACCOUNT, "AAPL", "buy", 0)
        assert bad.value.field == "qty" and "qty" in bad.value.message
        with pytest.raises(gc.UnknownOp):
            gw.call("no_such_verb")
        with pytest.raises(gc.UnknownAccount):
            gw.account("ghost")
        with pytest.raises(gc.UnknownOrder):
            gw.cancel(ACCOUNT, order_id="nope-1")
        with pytest.raises(gc.RiskRejected) as risk:
            gw.submit(ACCOUNT, "AAPL", "buy", 2000, type="limit", limit_price="1")
        assert risk.value.checks and risk.value.checks[0]["check"] == "max_order_qty"
        with pytest.raises(gc.NotSupported):
            # The paper broker has no opening auction.
            gw.call("submit", {"account": ACCOUNT, "symbol": "AAPL", "side": "buy", "qty": "1", "type": "market",
                               "tif": "opg"})
        gw.quote("AAPL", last="100")
        order = gw.submit(ACCOUNT, "AAPL", "buy", 1)
        with pytest.raises(gc.InvalidState):
            # A market order at a quote fills at once: it can no longer be replaced.
            for _ in gw.subscribe(after_seq=0, kinds=["fill"]):
                break
            gw.replace(ACCOUNT, order_id=order.order_id, qty=2)
        gw.halt(reason="errors test")
        with pytest.raises(gc.Halted):
            gw.submit(ACCOUNT, "AAPL", "buy", 1)
        gw.resume()
    # A line over 64 KiB: the daemon answers too_large (and closes only that connection); the client
    # refuses such a line itself with the same exception, before sending anything.
    big = raw_answer(daemon.socket, b'{"id":1,"op":"hello","client":"' + b"x" * 70_000 + b'"}\n')
    assert isinstance(error_from_answer(big), gc.TooLarge)
    with Client(daemon.socket) as gw, pytest.raises(gc.TooLarge):
        gw.hello(client="x" * 70_000)


def test_broker_unavailable_when_the_paper_broker_cannot_start(tmp_path):
    # A ledger path that is a folder: the paper broker cannot open it, so the account stays disconnected.
    (tmp_path / "ledger-folder").mkdir()
    gateway = Daemon(tmp_path, ledger=str(tmp_path / "ledger-folder"))
    gateway.start()
    try:
        with Client(gateway.socket) as gw:
            with pytest.raises(gc.BrokerUnavailable) as down:
                gw.submit(ACCOUNT, "AAPL", "buy", 1)
            assert "nothing was sent" in down.value.message
    finally:
        gateway.stop()


@pytest.mark.parametrize("code, cls", [
    ("bad_request", gc.BadRequest), ("too_large", gc.TooLarge), ("unknown_op", gc.UnknownOp),
    ("unknown_account", gc.UnknownAccount), ("unknown_order", gc.UnknownOrder), ("invalid_state", gc.InvalidState),
    ("risk_rejected", gc.RiskRejected), ("halted", gc.Halted), ("not_supported", gc.NotSupported),
    ("broker_unavailable", gc.BrokerUnavailable), ("unavailable", gc.Unavailable),
    ("unauthorized", gc.Unauthorized), ("internal", gc.InternalError), ("a_future_code", gc.GatewayError),
])
def test_each_code_has_its_exception_carrying_code_message_and_details(code, cls):
    error = error_from_answer({"id": 1, "ok": False, "error": {"code": code, "message": "why",
                                                               "details": {"field": "qty"}}})
    assert type(error) is cls and error.code == code and error.message == "why" and error.field == "qty"
    assert isinstance(error, gc.GatewayError)


def test_subscribe_resumes_after_a_restart_with_no_event_lost_or_repeated(daemon):
    seen: "queue.Queue" = queue.Queue()
    follower = Client(daemon.socket)

    def follow():
        for event in follower.subscribe(after_seq=0, retry_seconds=0.05):
            seen.put(event.seq)

    threading.Thread(target=follow, daemon=True).start()
    with Client(daemon.socket) as gw:
        gw.quote("AAPL", last="50")
        for i in range(5):
            gw.submit(ACCOUNT, "AAPL", "buy", 1, client_order_id=f"before-{i}")
    daemon.restart()
    with Client(daemon.socket) as gw:
        for i in range(5):
            gw.submit(ACCOUNT, "AAPL", "buy", 1, client_order_id=f"after-{i}")
        last = gw.status()["seq"]
    seqs = []
    while not seqs or seqs[-1] < last:
        seqs.append(seen.get(timeout=20))
    assert seqs == list(range(1, last + 1))


def test_the_async_subscribe_resumes_after_a_restart_too(daemon):
    async def scenario():
        async with AsyncClient(daemon.socket) as gw:
            await gw.quote("AAPL", last="50")
            await gw.submit(ACCOUNT, "AAPL", "buy", 1)
            events = gw.subscribe(after_seq=0, retry_seconds=0.05)
            first = await asyncio.wait_for(events.__anext__(), 10)
            assert first.seq == 1
            await asyncio.get_running_loop().run_in_executor(None, daemon.restart)
        async with AsyncClient(daemon.socket) as gw:
            await gw.submit(ACCOUNT, "AAPL", "buy", 1)
            last = (await gw.status())["seq"]
        seqs = [first.seq]
        while seqs[-1] < last:
            seqs.append((await asyncio.wait_for(events.__anext__(), 20)).seq)
        await events.aclose()
        assert seqs == list(range(1, last + 1))

    asyncio.run(scenario())
