"""Python client for the Execution Gateway's control socket (PROTOCOL.md, version 1).

Standard library only. ``Client`` is synchronous, ``AsyncClient`` is for asyncio; both cover every verb,
answer with dataclasses whose prices, quantities and amounts are ``Decimal``, and raise ``GatewayError``
subclasses carrying the gateway's code, message and details.
"""

from .aio import AsyncClient
from .client import Client
from .errors import (BadRequest, BrokerUnavailable, ConnectionLost, GatewayError, Halted, InternalError,
                     InvalidState, NotSupported, RiskRejected, TooLarge, Unauthorized, Unavailable, UnknownAccount,
                     UnknownOp, UnknownOrder, error_from_answer)
from .models import Account, Event, Fill, Order, Position, Report, SignalResult, TradingState

__all__ = [
    "Client", "AsyncClient", "GatewayError", "BadRequest", "TooLarge", "UnknownOp", "UnknownAccount",
    "UnknownOrder", "InvalidState", "RiskRejected", "Halted", "NotSupported", "BrokerUnavailable", "Unavailable",
    "Unauthorized", "InternalError", "ConnectionLost", "error_from_answer", "Order", "Fill", "Position", "Account",
    "TradingState", "SignalResult", "Event", "Report",
]
__version__ = "0.1.0"
