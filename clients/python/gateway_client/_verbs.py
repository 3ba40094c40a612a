"""Every verb of PROTOCOL.md as a request and a reading of its answer, shared by both clients.

Each function takes the verb's arguments and returns ``(op, fields, convert)``: the request fields
(prices and quantities as exact decimal strings) and how to turn the answer into Python objects.
"""

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from .models import Account, Event, Order, Position, Report, SignalResult, TradingState, dec, wire

Number = Union[str, int, float, "Decimal"]  # noqa: F821 - a hint only
Spec = Tuple[str, Dict[str, Any], Callable[[Dict[str, Any]], Any]]


def _fields(**values: Any) -> Dict[str, Any]:
    return {k: wire(v) for k, v in values.items() if v is not None}


def _orders(answer: Dict[str, Any]) -> List[Order]:
    return [Order.from_wire(o) for o in answer.get("orders", [])]


def _order(answer: Dict[str, Any]) -> Order:
    order = Order.from_wire(answer["order"])
    order.duplicate = bool(answer.get("duplicate", False))
    return order


def _quote(answer: Dict[str, Any]) -> Dict[str, Any]:
    quote = dict(answer.get("quote", {}))
    for key in ("bid", "ask", "last", "bid_size", "ask_size", "volume"):
        if key in quote:
            quote[key] = dec(quote[key])
    return quote


def hello(client: str = "gateway_client", protocol: int = 1) -> Spec:
    """Checks the daemon answers and speaks protocol 1; returns its server name, version and accounts."""
    return "hello", {"client": client, "protocol": protocol}, lambda a: a


def submit(account: str, symbol: str, side: str, qty: Number, type: str = "market",
           limit_price: Optional[Number] = None, stop_price: Optional[Number] = None,
           trail_price: Optional[Number] = None, trail_percent: Optional[Number] = None, tif: str = "day",
           client_order_id: Optional[str] = None, strategy: Optional[str] = None,
           tags: Optional[Iterable[str]] = None, extended_hours: bool = False) -> Spec:
    """Sends an order. Returns the ``Order`` (``order.duplicate`` is true when the client_order_id was known).
    ``extended_hours`` lets a limit day or gtc order work pre-market and after-hours too."""
    fields = _fields(account=account, symbol=symbol, side=side, qty=qty, type=type, limit_price=limit_price,
                     stop_price=stop_price, trail_price=trail_price, trail_percent=trail_percent, tif=tif,
                     client_order_id=client_order_id, strategy=strategy)
    if extended_hours:
        fields["extended_hours"] = True
    if tags is not None:
        fields["tags"] = list(tags)
    return "submit", fields, _order


def signal(account: str, signal_id: str, symbol: str, side: str, entry_type: str = "market",
           entry_price: Optional[Number] = None, stop_price: Optional[Number] = None, atr: Optional[Number] = None,
           atr_multiple: Optional[Number] = None, take_profit: Optional[Number] = None,
           risk_fraction: Optional[Number] = None, qty: Optional[Number] = None, tif: str = "day",
           strategy: Optional[str] = None, tags: Optional[Iterable[str]] = None) -> Spec:
    """Sends a signal: the gateway sizes it and places the entry (and a bracket's stop and target).
    ``signal_id`` makes it idempotent: the same id twice never makes a second order."""
    entry = {"type": entry_type}
    if entry_price is not None:
        entry["price"] = wire(entry_price)
    fields = _fields(account=account, signal_id=signal_id, symbol=symbol, side=side, stop_price=stop_price,
                     atr=atr, atr_multiple=atr_multiple, take_profit=take_profit, risk_fraction=risk_fraction,
                     qty=qty, tif=tif, strategy=strategy)
    fields["entry"] = entry
    if tags is not None:
        fields["tags"] = list(tags)
    return "signal", fields, lambda a: SignalResult(
        orders=_orders(a), sizing=a.get("sizing"), duplicate=bool(a.get("duplicate", False)), raw=a)


def cancel(account: str, order_id: Optional[str] = None, client_order_id: Optional[str] = None) -> Spec:
    """Asks to cancel an order, named by ``order_id`` or ``client_order_id``; returns it pending cancel."""
    return "cancel", _fields(account=account, order_id=order_id, client_order_id=client_order_id), _order


def replace(account: str, order_id: Optional[str] = None, client_order_id: Optional[str] = None,
            qty: Optional[Number] = None, limit_price: Optional[Number] = None,
            stop_price: Optional[Number] = None, tif: Optional[str] = None) -> Spec:
    """Replaces an order's terms; returns the new order."""
    return "replace", _fields(account=account, order_id=order_id, client_order_id=client_order_id, qty=qty,
                              limit_price=limit_price, stop_price=stop_price, tif=tif), _order


def cancel_all(account: Optional[str] = None, symbol: Optional[str] = None) -> Spec:
    """Asks to cancel every open order (of an account, of a symbol); returns them."""
    return "cancel_all", _fields(account=account, symbol=symbol), _orders


def halt(account: Optional[str] = None, reason: Optional[str] = None, cancel_open: bool = False) -> Spec:
    """The kill switch: halts an account (or, without one, the whole gateway)."""
    return "halt", _fields(account=account, reason=reason, cancel_open=cancel_open), \
        lambda a: TradingState.from_wire(a["trading_state"])


def resume(account: Optional[str] = None, state: str = "active", reason: Optional[str] = None) -> Spec:
    """Returns an account (or the gateway) to ``active`` or ``reducing``."""
    return "resume", _fields(account=account, state=state, reason=reason), \
        lambda a: TradingState.from_wire(a["trading_state"])


def reconcile(account: Optional[str] = None) -> Spec:
    """Compares the journal with the broker now (one account, or all); returns one dict per account with
    the ``differences`` found (each with ``difference``, ``journal``, ``broker`` and ``action``)."""
    return "reconcile", _fields(account=account), lambda a: list(a.get("reconciliations", []))


def orders(account: Optional[str] = None, status: str = "open", symbol: Optional[str] = None,
           strategy: Optional[str] = None) -> Spec:
    """Open orders (``status="all"`` for every order)."""
    return "orders", _fields(account=account, status=status, symbol=symbol, strategy=strategy), _orders


def positions(account: Optional[str] = None) -> Spec:
    """Positions with their marks and profit."""
    return "positions", _fields(account=account), \
        lambda a: [Position.from_wire(p) for p in a.get("positions", [])]


def account(account: str) -> Spec:
    """An account's cash, equity, buying power, profit and trading state."""
    return "account", _fields(account=account), lambda a: Account.from_wire(a["account"])


def status() -> Spec:
    """The daemon's version, uptime, journal position, and per account its broker and trading state."""
    return "status", {}, lambda a: a


def journal(account: Optional[str] = None, symbol: Optional[str] = None, strategy: Optional[str] = None,
            order_id: Optional[str] = None, kinds: Optional[Iterable[str]] = None, since: Any = None,
            until: Any = None, after_seq: Optional[int] = None, limit: Optional[int] = None,
            client_order_id: Optional[str] = None) -> Spec:
    """Journaled events, oldest first, filtered; ``since``/``until`` take datetimes or ``YYYY-MM-DD``."""
    fields = _fields(account=account, symbol=symbol, strategy=strategy, order_id=order_id, since=since,
                     until=until, client_order_id=client_order_id)
    if kinds is not None:
        fields["kinds"] = list(kinds)
    if after_seq is not None:
        fields["after_seq"] = int(after_seq)
    if limit is not None:
        fields["limit"] = int(limit)
    return "journal", fields, lambda a: [Event.from_wire(e) for e in a.get("events", [])]


def journal_verify(state: bool = False) -> Spec:
    """Walks the journal's hash chain: ``verified``, ``events``, ``last_seq``, ``head_hash``, and for a broken
    chain ``broken_seq``, ``expected``, ``found`` and ``problem``. With ``state=True`` the daemon also
    compares its state with a fresh replay of the journal (``state.matches``)."""
    return "journal_verify", ({"state": True} if state else {}), lambda a: a


def journal_backup(path: str) -> Spec:
    """Copies the journal, consistent, to ``path`` (absolute, a new file) while the daemon runs."""
    return "journal_backup", {"path": path}, lambda a: a


def alert_test(destination: Optional[str] = None) -> Spec:
    """Sends a test message now to one alert destination (every one when ``None``); returns one result per
    destination: ``destination``, ``kind``, ``delivered``, ``status`` and, when not delivered, ``problem``."""
    return "alert_test", _fields(destination=destination), lambda a: a.get("results", [])


def report(account: Optional[str] = None, strategy: Optional[str] = None, symbol: Optional[str] = None,
           since: Any = None, until: Any = None) -> Spec:
    """Performance of closed round trips: every figure overall and by strategy, tag and symbol."""
    return "report", _fields(account=account, strategy=strategy, symbol=symbol, since=since, until=until), \
        Report.from_wire


def quote(symbol: str, bid: Optional[Number] = None, ask: Optional[Number] = None, last: Optional[Number] = None,
          ts: Any = None, bid_size: Optional[Number] = None, ask_size: Optional[Number] = None,
          volume: Optional[Number] = None) -> Spec:
    """Gives a price (and what is offered at it, and what traded since the last quote) to the paper
    simulator and the risk checks; returns the merged quote in force."""
    return "quote", _fields(symbol=symbol, bid=bid, ask=ask, last=last, ts=ts, bid_size=bid_size,
                            ask_size=ask_size, volume=volume), _quote


VERBS = [hello, submit, signal, cancel, replace, cancel_all, halt, resume, reconcile, orders, positions, account,
         status, journal, journal_verify, journal_backup, alert_test, report, quote]
