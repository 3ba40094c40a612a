"""The synchronous client: one connection, one request at a time."""

import functools
import socket
import time
from typing import Any, Dict, Iterable, Iterator, Optional

from . import _socket, _verbs
from .errors import ConnectionLost, TooLarge, error_from_answer
from .models import Event


class Client:
    """A connection to gatewayd's control socket.

    >>> with Client() as gw:
    ...     gw.signal("paper", "screener-AAPL-1", "AAPL", "buy", entry_type="limit", entry_price="190",
    ...               stop_price="185")

    Every verb of PROTOCOL.md is a method (``submit``, ``signal``, ``cancel``, ``replace``, ``cancel_all``,
    ``halt``, ``resume``, ``reconcile``, ``orders``, ``positions``, ``account``, ``status``, ``journal``, ``report``,
    ``quote``, ``hello``); a refusal raises a ``GatewayError`` subclass carrying the code, message and
    details. ``subscribe()`` follows events on a connection of its own and reconnects by itself.
    """

    def __init__(self, socket_path: Optional[str] = None, timeout: Optional[float] = 30.0):
        self.socket_path = _socket.socket_path(socket_path)
        self.timeout = timeout
        self._sock: Optional[socket.socket] = None
        self._buffer = b""
        self._next_id = 1

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.socket_path)
            except OSError as error:
                sock.close()
                raise ConnectionLost("connection_lost", f"cannot reach gatewayd at {self.socket_path}: {error}")
            self._sock = sock
        return self._sock

    def _readline(self) -> bytes:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(65536)
            except OSError as error:
                self.close()
                raise ConnectionLost("connection_lost", f"gatewayd connection failed: {error}")
            if not chunk:
                self.close()
                raise ConnectionLost("connection_lost", "gatewayd closed the connection")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def call(self, op: str, fields: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Sends one request and returns its successful answer; raises the matching ``GatewayError``."""
        line = _socket.encode(self._next_id, op, fields or {})
        request_id = self._next_id
        self._next_id += 1
        if len(line) > _socket.MAX_LINE:
            raise TooLarge("too_large", f"the request is {len(line)} bytes; the limit is 64 KiB")
        sock = self._connect()
        try:
            sock.sendall(line)
        except OSError as error:
            self.close()
            raise ConnectionLost("connection_lost", f"cannot send to gatewayd: {error}")
        while True:
            answer = _socket.decode(self._readline())
            if "event" in answer or answer.get("id") != request_id:
                continue  # not ours (events belong to subscribe's own connection)
            if answer.get("ok"):
                return answer
            raise error_from_answer(answer)

    def subscribe(self, after_seq: Optional[int] = None, kinds: Optional[Iterable[str]] = None,
                  reconnect: bool = True, retry_seconds: float = 0.5,
                  give_up_after: Optional[float] = None) -> Iterator[Event]:
        """Events as they are journaled, for ever: first those after ``after_seq``, then live ones.

        On its own connection. When the connection drops (the daemon restarts), it reconnects and resumes
        after the last ``seq`` it yielded, so no event is missed or repeated. Without ``after_seq`` it
        starts at the journal's current end. ``give_up_after`` seconds of failed reconnection raise
        ``ConnectionLost``; by default it keeps trying.
        """
        last = after_seq
        kinds = list(kinds) if kinds is not None else None
        if last is None:
            last = int(self.status()["seq"])
        down_since: Optional[float] = None
        while True:
            follower = Client(self.socket_path, timeout=self.timeout)
            try:
                fields: Dict[str, Any] = {"after_seq": last}
                if kinds is not None:
                    fields["kinds"] = kinds
                follower.call("subscribe", fields)
                follower._sock.settimeout(None)  # events may be hours apart
                down_since = None
                while True:
                    message = _socket.decode(follower._readline())
                    if "event" not in message:
                        continue
                    event = Event.from_wire(message)
                    if event.seq <= last:
                        continue
                    last = event.seq
                    yield event
            except ConnectionLost:
                if not reconnect:
                    raise
                now = time.monotonic()
                down_since = down_since or now
                if give_up_after is not None and now - down_since > give_up_after:
                    raise
                time.sleep(retry_seconds)
            finally:
                follower.close()


def _bind(spec):
    @functools.wraps(spec)
    def method(self: Client, *args: Any, **kwargs: Any) -> Any:
        op, fields, convert = spec(*args, **kwargs)
        return convert(self.call(op, fields))

    return method


for _spec in _verbs.VERBS:
    setattr(Client, _spec.__name__, _bind(_spec))
