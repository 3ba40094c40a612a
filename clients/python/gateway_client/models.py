"""Dataclasses for what the gateway answers: every price, quantity and amount is a ``Decimal``."""

from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional


def dec(value: Any) -> Optional[Decimal]:
    """A decimal string (or number) from the wire as a ``Decimal``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def wire(value: Any) -> Any:
    """A value for a request: ``Decimal``, ``int`` and ``float`` become exact decimal strings."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def _build(cls, data: Dict[str, Any], decimals: tuple):
    names = {f.name for f in fields(cls)}
    values = {k: (dec(v) if k in decimals else v) for k, v in data.items() if k in names}
    return cls(**values, raw=data)


@dataclass
class Order:
    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: str
    qty: Decimal
    type: str
    tif: str
    status: str
    filled_qty: Decimal = Decimal(0)
    limit_price: Optional[Decimal] = None
    stop_price: Optional[Decimal] = None
    trail_price: Optional[Decimal] = None
    trail_percent: Optional[Decimal] = None
    avg_fill_price: Optional[Decimal] = None
    strategy: Optional[str] = None
    tags: Optional[List[str]] = None
    broker_order_id: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    reject_reasons: Optional[List[str]] = None
    replaces_order_id: Optional[str] = None
    replaced_by_order_id: Optional[str] = None
    parent_order_id: Optional[str] = None
    #: May work in pre-market and after-hours too (a limit order, day or gtc).
    extended_hours: bool = False
    #: True when a submit named a client_order_id the gateway already knew: nothing new was sent.
    duplicate: bool = field(default=False, compare=False)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    DECIMALS = ("qty", "filled_qty", "limit_price", "stop_price", "trail_price", "trail_percent", "avg_fill_price")

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Order":
        return _build(cls, data, cls.DECIMALS)

    @property
    def is_open(self) -> bool:
        return self.status in ("accepted", "submitted", "acknowledged", "partially_filled", "pending_cancel",
                               "pending_replace", "unknown")


@dataclass
class Fill:
    fill_id: str
    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    commission: Decimal = Decimal(0)
    ts: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Fill":
        return _build(cls, data, ("qty", "price", "commission"))


@dataclass
class Position:
    account: str
    symbol: str
    qty: Decimal
    avg_price: Optional[Decimal] = None
    market_price: Optional[Decimal] = None
    market_value: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Position":
        return _build(cls, data, ("qty", "avg_price", "market_price", "market_value", "unrealized_pnl",
                                  "realized_pnl"))


@dataclass
class Account:
    account: str
    broker: str
    currency: str
    cash: Decimal
    equity: Decimal
    buying_power: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    day_pnl: Decimal
    trading_state: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Account":
        return _build(cls, data, ("cash", "equity", "buying_power", "realized_pnl", "unrealized_pnl", "day_pnl"))


@dataclass
class TradingState:
    scope: str
    state: str
    account: Optional[str] = None
    reason: Optional[str] = None
    canceled: Optional[List[str]] = None
    #: ``operator`` (halt, resume, SIGUSR1) or ``risk_limit`` (a loss or drawdown limit was reached).
    cause: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "TradingState":
        return _build(cls, data, ())


@dataclass
class SignalResult:
    """What a signal became: its orders (entry, then a bracket's stop and target) and how it was sized."""

    orders: List[Order]
    sizing: Optional[Dict[str, Any]]
    duplicate: bool
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def entry(self) -> Order:
        return self.orders[0]


@dataclass
class Event:
    """A journaled event pushed to a subscriber: ``kind`` (``order``, ``fill``, ``quote``, ...) and ``seq``."""

    kind: str
    seq: int
    ts: str
    data: Dict[str, Any]

    @property
    def order(self) -> Optional[Order]:
        return Order.from_wire(self.data["order"]) if "order" in self.data else None

    @property
    def fill(self) -> Optional[Fill]:
        return Fill.from_wire(self.data["fill"]) if "fill" in self.data else None

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Event":
        return cls(kind=data["event"], seq=int(data["seq"]), ts=data.get("ts", ""), data=data)


REPORT_DECIMALS = ("win_rate", "avg_win", "avg_loss", "expectancy", "profit_factor", "sharpe", "sortino",
                   "max_drawdown", "max_drawdown_fraction", "net_pnl", "commissions")


def figures(data: Dict[str, Any]) -> Dict[str, Any]:
    """Performance figures with their amounts and ratios as ``Decimal``."""
    return {k: (dec(v) if k in REPORT_DECIMALS else v) for k, v in data.items()
            if k not in ("equity_curve", "by_strategy", "by_tag", "by_symbol", "round_trips")}


@dataclass
class Report:
    """PROTOCOL.md "Performance figures": ``figures`` overall, the same per strategy, tag and symbol."""

    figures: Dict[str, Any]
    equity_curve: List[Dict[str, Any]]
    by_strategy: Dict[str, Dict[str, Any]]
    by_tag: Dict[str, Dict[str, Any]]
    by_symbol: Dict[str, Dict[str, Any]]
    round_trips: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getattr__(self, name: str) -> Any:
        # report.trades, report.net_pnl, ... read the overall figures.
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    @classmethod
    def from_wire(cls, data: Dict[str, Any]) -> "Report":
        trip_decimals = ("qty", "entry_price", "exit_price", "pnl", "commissions")
        return cls(
            figures=figures(data),
            equity_curve=[{"date": p["date"], "equity": dec(p["equity"])} for p in data.get("equity_curve", [])],
            by_strategy={k: figures(v) for k, v in data.get("by_strategy", {}).items()},
            by_tag={k: figures(v) for k, v in data.get("by_tag", {}).items()},
            by_symbol={k: figures(v) for k, v in data.get("by_symbol", {}).items()},
            round_trips=[{k: (dec(v) if k in trip_decimals else v) for k, v in t.items()}
                         for t in data.get("round_trips", [])],
            raw=data,
        )
