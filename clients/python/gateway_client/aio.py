"""The asyncio client: one connection, requests may be in flight together (answers come in order)."""

import asyncio
import functools
from typing import Any, AsyncIterator, Dict, Iterable, Optional

from . import _socket, _verbs
from .errors import ConnectionLost, TooLarge, error_from_answer
from .models import Event


class AsyncClient:
    """The asyncio twin of ``Client``: every verb is a coroutine, ``subscribe()`` an async iterator.

    >>> async with AsyncClient() as gw:
    ...     order = await gw.submit("paper", "AAPL", "buy", 10, type="limit", limit_price="190")
    """

    def __init__(self, socket_path: Optional[str] = None, timeout: Optional[float] = 30.0):
        self.socket_path = _socket.socket_path(socket_path)
        self.timeout = timeout
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._pending: Dict[int, "asyncio.Future[Dict[str, Any]]"] = {}
        self._events: Optional["asyncio.Queue[Any]"] = None
        self._pump: Optional["asyncio.Task[None]"] = None
        self._next_id = 1
        self._lock: Optional[asyncio.Lock] = None  # made inside the running loop (Python 3.9)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._writer = None
        self._fail_pending(ConnectionLost("connection_lost", "the client was closed"))

    def _fail_pending(self, error: Exception) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
        if self._events is not None:
            self._events.put_nowait(error)

    async def _connect(self) -> None:
        if self._writer is not None:
            return
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(self.socket_path, limit=1 << 20)
        except OSError as error:
            raise ConnectionLost("connection_lost", f"cannot reach gatewayd at {self.socket_path}: {error}")
        self._pump = asyncio.ensure_future(self._read_lines())

    async def _read_lines(self) -> None:
        """Hands each answer to the request waiting for it and each event to the subscriber."""
        assert self._reader is not None
        error: Exception = ConnectionLost("connection_lost", "gatewayd closed the connection")
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                message = _socket.decode(line)
                if "event" in message:
                    if self._events is not None:
                        self._events.put_nowait(message)
                    continue
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message)
        except (OSError, ValueError) as failure:
            error = ConnectionLost("connection_lost", f"gatewayd connection failed: {failure}")
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._fail_pending(error)

    async def call(self, op: str, fields: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Sends one request and returns its successful answer; raises the matching ``GatewayError``."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._connect()
            request_id = self._next_id
            self._next_id += 1
            line = _socket.encode(request_id, op, fields or {})
            if len(line) > _socket.MAX_LINE:
                raise TooLarge("too_large", f"the request is {len(line)} bytes; the limit is 64 KiB")
            future: "asyncio.Future[Dict[str, Any]]" = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            assert self._writer is not None
            try:
                self._writer.write(line)
                await self._writer.drain()
            except OSError as error:
                self._pending.pop(request_id, None)
                raise ConnectionLost("connection_lost", f"cannot send to gatewayd: {error}")
        answer = await asyncio.wait_for(future, self.timeout)
        if answer.get("ok"):
            return answer
        raise error_from_answer(answer)

    async def subscribe(self, after_seq: Optional[int] = None, kinds: Optional[Iterable[str]] = None,
                        reconnect: bool = True, retry_seconds: float = 0.5,
                        give_up_after: Optional[float] = None) -> AsyncIterator[Event]:
        """Events as they are journaled, resuming after the last ``seq`` across reconnects (see
        ``Client.subscribe``)."""
        last = after_seq
        kinds = list(kinds) if kinds is not None else None
        if last is None:
            last = int((await self.status())["seq"])
        loop = asyncio.get_running_loop()
        down_since: Optional[float] = None
        while True:
            follower = AsyncClient(self.socket_path, timeout=self.timeout)
            follower._events = asyncio.Queue()
            try:
                fields: Dict[str, Any] = {"after_seq": last}
                if kinds is not None:
                    fields["kinds"] = kinds
                await follower.call("subscribe", fields)
                down_since = None
                while True:
                    message = await follower._events.get()
                    if isinstance(message, Exception):
                        raise message
                    event = Event.from_wire(message)
                    if event.seq <= last:
                        continue
                    last = event.seq
                    yield event
            except ConnectionLost:
                if not reconnect:
                    raise
                now = loop.time()
                down_since = down_since or now
                if give_up_after is not None and now - down_since > give_up_after:
                    raise
                await asyncio.sleep(retry_seconds)
            finally:
                await follower.close()


def _bind(spec):
    @functools.wraps(spec)
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        op, fields, convert = spec(*args, **kwargs)
        return convert(await self.call(op, fields))

    return method


for _spec in _verbs.VERBS:
    setattr(AsyncClient, _spec.__name__, _bind(_spec))
