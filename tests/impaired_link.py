"""A degraded network link in user space: a TCP proxy with delay, byte rate, loss, stalls, cuts.

This kernel has no ``netem`` qdisc, so the link a nurse's tablet has in a basement or on a
rural road is played by an asyncio proxy in a thread, between a client and a real server
on loopback. Each direction is a pipeline of segments (``SEGMENT_BYTES``):

- delay: a segment leaves ``delay_s`` after it arrived (one way), in order;
- rate: segments leave no faster than ``bytes_per_s`` (each direction its own);
- loss: a segment is "lost" with probability ``loss`` and costs a retransmission timeout
  (``rto_s``) before it and everything behind it go on: what TCP makes of packet loss;
- back-pressure: a few segments in flight at most, and small socket buffers on the proxy's
  side, so a sender really waits for the link (its ``sendall`` blocks, as on a slow link);
- events, fired when the client has sent a given number of bytes in total: ``Stall``
  (the link is down, nothing moves, connections survive: a short cut), ``Reset``
  (every open connection is torn down mid-stream) and ``CutAnswer`` (the next bytes the
  server sends tear the connections down instead: the request arrived whole, the server
  acted on it, its answer is lost).

Byte counts each way and connection counts are kept for tests and ``bench``.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SEGMENT_BYTES = 1460
SOCKET_BUFFER_BYTES = 8192


@dataclass(frozen=True)
class Stall:
    """The link carries nothing for ``seconds`` once the client sent ``after_up_bytes``."""

    after_up_bytes: int
    seconds: float


@dataclass(frozen=True)
class Reset:
    """Every open connection is torn down once the client sent ``after_up_bytes``."""

    after_up_bytes: int


@dataclass(frozen=True)
class CutAnswer:
    """Once the client sent ``after_up_bytes``, the server's next bytes cut every connection."""

    after_up_bytes: int


Event = Stall | Reset | CutAnswer


@dataclass(frozen=True)
class LinkProfile:
    """How bad the link is; ``None`` rate means unlimited."""

    up_bytes_per_s: float | None = None
    down_bytes_per_s: float | None = None
    delay_s: float = 0.0
    loss: float = 0.0
    rto_s: float = 0.5
    events: tuple[Event, ...] = ()
    seed: int = 13

    @classmethod
    def kbit(cls, up: float, down: float | None = None, **rest: object) -> LinkProfile:
        """A profile from rates in kbit/s (down defaults to up)."""
        down = up if down is None else down
        return cls(up * 125.0, down * 125.0, **rest)  # type: ignore[arg-type]


@dataclass
class LinkStats:
    """What crossed the link."""

    up_bytes: int = 0
    down_bytes: int = 0
    connections: int = 0
    resets: int = 0
    stalls: int = 0
    lost_segments: int = 0


@dataclass
class _State:
    stats: LinkStats = field(default_factory=LinkStats)
    up_until: float = 0.0  # loop time before which the link is stalled
    pending: list[Event] = field(default_factory=list)
    open: set[asyncio.StreamWriter] = field(default_factory=set)
    cut_answer: bool = False  # a CutAnswer fired: the next down bytes cut the connections


class ImpairedLink:
    """The proxy; use ``impaired_link(...)`` to run one for the length of a block."""

    def __init__(self, target_port: int, profile: LinkProfile) -> None:
        self.target_port = target_port
        self.profile = profile
        self.state = _State(pending=sorted(profile.events, key=lambda e: e.after_up_bytes))
        self.random = random.Random(profile.seed)
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def stats(self) -> LinkStats:
        """Bytes and connections so far."""
        return self.state.stats

    @property
    def url(self) -> str:
        """The base URL a client uses to reach the server through the link."""
        return f"http://127.0.0.1:{self.port}"

    def schedule(self, *events: Event) -> None:
        """Add events (thresholds count the client's bytes since the link started)."""
        def add() -> None:
            self.state.pending = sorted([*self.state.pending, *events],
                                        key=lambda e: e.after_up_bytes)
        self.loop.call_soon_threadsafe(add)

    async def start(self) -> None:
        """Listen on a free loopback port with small buffers (real back-pressure)."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER_BYTES)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        # asyncio buffers up to twice ``limit`` before it stops reading a socket.
        self._server = await asyncio.start_server(self._connection, sock=sock,
                                                  limit=SEGMENT_BYTES)

    async def stop(self) -> None:
        """Stop listening, tear down what is open and end every relay."""
        if self._server is not None:
            self._server.close()
        for writer in list(self.state.open):
            writer.transport.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _connection(self, client_r: asyncio.StreamReader,
                          client_w: asyncio.StreamWriter) -> None:
        """Relay one client connection to the server through both impaired pipes."""
        self.state.stats.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(
                "127.0.0.1", self.target_port, limit=SEGMENT_BYTES)
        except OSError:
            client_w.transport.abort()
            return
        pair = {client_w, server_w}
        self.state.open |= pair
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, self.profile.up_bytes_per_s, up=True),
                self._pipe(server_r, client_w, self.profile.down_bytes_per_s, up=False),
                return_exceptions=True)
        except asyncio.CancelledError:
            pass  # the link is being stopped
        finally:
            self.state.open -= pair
            for writer in pair:
                writer.transport.abort()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter,
                    rate: float | None, *, up: bool) -> None:
        """Carry one direction: read, delay, pace, deliver; EOF closes the far side."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(maxsize=4)
        carrier = asyncio.create_task(self._deliver(queue, dst, rate, up=up))
        try:
            while data := await src.read(SEGMENT_BYTES):
                await queue.put((self.loop.time() + self.profile.delay_s, data))
        except OSError:
            pass
        await queue.put(None)
        await carrier

    async def _deliver(self, queue: asyncio.Queue[tuple[float, bytes] | None],
                       dst: asyncio.StreamWriter, rate: float | None, *, up: bool) -> None:
        """Send each segment at its time, at the link's rate, after stalls and losses."""
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(0.0, due - self.loop.time()))
            await self._wait_while_stalled()
            if self.random.random() < self.profile.loss:
                self.state.stats.lost_segments += 1
                await asyncio.sleep(self.profile.rto_s)
            if rate:
                await asyncio.sleep(len(data) / rate)
            if dst.transport.is_closing():
                return
            if not up and self.state.cut_answer:
                self.state.cut_answer = False
                self._fire(Reset(0))
                return
            self._count(len(data), up=up)
            dst.write(data)
            try:
                await dst.drain()
            except OSError:
                return
        if not dst.transport.is_closing():
            dst.close()

    async def _wait_while_stalled(self) -> None:
        """Hold everything while the link is down."""
        while (left := self.state.up_until - self.loop.time()) > 0:
            await asyncio.sleep(left)

    def _count(self, size: int, *, up: bool) -> None:
        """Count bytes; fire the events the client's bytes have reached."""
        stats = self.state.stats
        if not up:
            stats.down_bytes += size
            return
        stats.up_bytes += size
        while self.state.pending and stats.up_bytes >= self.state.pending[0].after_up_bytes:
            self._fire(self.state.pending.pop(0))

    def _fire(self, event: Event) -> None:
        """Stall the link, arm the cut of the next answer, or tear down every connection."""
        if isinstance(event, CutAnswer):
            self.state.cut_answer = True
            return
        if isinstance(event, Stall):
            self.state.stats.stalls += 1
            self.state.up_until = self.loop.time() + event.seconds
            return
        self.state.stats.resets += 1
        for writer in list(self.state.open):
            writer.transport.abort()


@contextmanager
def impaired_link(target_port: int, profile: LinkProfile) -> Iterator[ImpairedLink]:
    """Run the proxy in a thread of its own for the block; stop it after."""
    link = ImpairedLink(target_port, profile)
    thread = threading.Thread(target=link.loop.run_forever, daemon=True, name="impaired-link")
    thread.start()
    asyncio.run_coroutine_threadsafe(link.start(), link.loop).result(timeout=10)
    try:
        yield link
    finally:
        asyncio.run_coroutine_threadsafe(link.stop(), link.loop).result(timeout=10)
        link.loop.call_soon_threadsafe(link.loop.stop)
        thread.join(timeout=10)
        link.loop.close()
