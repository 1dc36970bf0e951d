"""The gunicorn worker `make run` uses: gthread that gives a thread only to a request that has arrived.

Plain gthread hands a connection to a thread as soon as its first bytes
arrive; a client that then sends the rest slowly, or never, holds that
thread, and 8 such clients hold them all. Here a thread takes what has
arrived without blocking: while the request's headers, and its body up to
PEEK_BYTES, are incomplete, the bytes are kept with the connection and it
goes back to the worker's poller (gthread's own "deferred" state, which
holds no thread, wakes on new bytes and is closed after the keep-alive
timeout without any). A complete request is handed to gunicorn's parser with
the bytes already taken. Each request has MODERATION_REQUEST_READ_SECONDS in
all to arrive; reads of a larger body in the thread are held to the same
deadline. The worker relies on gthread's deferral (gunicorn 27).

New connections go to the worker that holds fewest. A keep-alive
connection stays with the worker that accepted it, and every worker's
poller wakes for a new one: left to that race, one worker held none of a
load's connections in about a third of short wrk runs at 2 and at 8
connections, leaving a core idle (benchmarks/spread.py;
docs/benchmarks.md, twelfth round). Each worker publishes its open
connections, and whether it accepts, in a page the master shares with its
workers (AcceptShares). A worker holding more than another accepting one
leaves a new connection to it, and takes it itself if it is still waiting
ACCEPT_WAIT later (the other worker stopped or hung). A worker holding two
more than another (counts read while a load's old connections were still
closing) answers `Connection: close` until its clients, connecting again,
have been shared out.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import re
import selectors
import signal
import socket
import sys
import time

from gunicorn.workers import gthread

from .config import Settings

log = logging.getLogger("service.slow_clients")

# A request whose headers and body fit in this many bytes is read by a thread only once all of it is here.
PEEK_BYTES = 64 * 1024
_CONTENT_LENGTH_RE = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_CHUNKED_RE = re.compile(rb"^transfer-encoding:[^\r\n]*chunked", re.IGNORECASE | re.MULTILINE)


def request_complete(data: bytes) -> bool:
    """Say whether peeked bytes hold a whole request, or as much of one as a thread should wait for."""
    if len(data) >= PEEK_BYTES:
        return True
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    if _CHUNKED_RE.search(head):
        return body.endswith(b"\r\n\r\n") and (body.startswith(b"0\r\n") or b"\r\n0\r\n" in body)
    match = _CONTENT_LENGTH_RE.search(head)
    return len(body) >= int(match.group(1)) if match else True


class DeadlineSocket(socket.socket):
    """A connection whose blocking reads fail once the current request's deadline has passed."""

    deadline = float("inf")
    read_seconds = 0.0

    def recv(self, bufsize, flags=0):
        return self._before_deadline(super().recv, bufsize, flags)

    def recv_into(self, buffer, nbytes=0, flags=0):
        return self._before_deadline(super().recv_into, buffer, nbytes, flags)

    def _before_deadline(self, read, *args):
        previous = self.gettimeout()
        if previous == 0.0:  # the worker's own non-blocking use: not a request read by a thread
            return read(*args)
        remaining = self.deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            self.settimeout(remaining if previous is None else min(previous, remaining))
            return read(*args)
        except TimeoutError:
            raise dropped(self.read_seconds) from None
        finally:
            self.settimeout(previous)


def dropped(read_seconds: float) -> ConnectionResetError:
    """Log a dropped slow client and return the error that makes gunicorn close it quietly."""
    log.warning("dropped a connection that had not sent its whole request after %g s", read_seconds)
    return ConnectionResetError(errno.ECONNRESET, "request read deadline passed")


# How long a worker leaves a new connection to a worker holding fewer before it takes the connection itself.
ACCEPT_WAIT = 0.01


class AcceptShares:
    """Each worker's open connections, and whether it accepts more, in one shared page.

    Made in the master, before the first fork; workers forked later share
    it. The master hands out the slots (`claim` for a new worker, `release`
    once it has exited) and each worker writes its own. Reads are not
    locked: a count a moment stale only sends a connection to a worker
    holding one more than it might.
    """

    SLOTS = 128  # MODERATION_WORKERS is at most 64; a reload (HUP) runs the new ones beside the old for a moment

    def __init__(self):
        self._page = mmap.mmap(-1, 2 * self.SLOTS * 8)  # anonymous and shared: every later fork sees the same page
        view = memoryview(self._page).cast("q")
        self.accepting, self.open = view[:self.SLOTS], view[self.SLOTS:]
        self._taken: set[int] = set()  # the master's bookkeeping

    def claim(self) -> int | None:
        """A free slot for a worker about to fork (in the master); None when all are taken."""
        slot = next((i for i in range(self.SLOTS) if i not in self._taken), None)
        if slot is not None:
            self._taken.add(slot)  # cleared: the page starts zeroed, and release zeroes a slot
        return slot

    def release(self, slot: int) -> None:
        """Free the slot of a worker that has exited (in the master)."""
        self.accepting[slot] = self.open[slot] = 0
        self._taken.discard(slot)

    def publish(self, slot: int, *, accepting: bool, open_connections: int) -> None:
        self.accepting[slot], self.open[slot] = int(accepting), open_connections

    def fewest(self) -> int | None:
        """The fewest open connections of any accepting worker (None: none accepts)."""
        return min((count for flag, count in zip(self.accepting, self.open, strict=True) if flag), default=None)


class Worker(gthread.ThreadWorker):
    """gthread where only requests that have arrived take a thread, and new connections go to the worker
    holding fewest (see the module's docstring)."""

    shares: AcceptShares | None = None  # made by the first worker's constructor, in the master
    _crowded = False  # holding two connections more than another accepting worker

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # in the master, before the fork
        if Worker.shares is None:
            Worker.shares = AcceptShares()
        self.slot = Worker.shares.claim()
        self._paused_until: float | None = None  # listeners out of the poller, leaving connections to others

    def release_slot(self) -> None:
        """Give the slot back once this worker has exited (the master's child_exit hook)."""
        if self.slot is not None:
            Worker.shares.release(self.slot)

    def init_process(self):
        self.read_seconds = Settings.from_env().request_read_seconds
        super().init_process()

    def notify(self):
        # Once each pass of the main loop: the count published follows the connections closed, and whether this
        # worker is crowded follows the other workers' counts.
        super().notify()
        self._publish()

    def finish_request(self, conn, fs):
        open_before = self.nr_conns
        super().finish_request(conn, fs)
        if self.nr_conns != open_before:  # closed: at once (a client's probe counts no longer than it lives)
            self._publish()

    def _publish(self) -> None:
        if self.slot is not None:
            Worker.shares.publish(self.slot, accepting=self._accepting and self.alive,
                                  open_connections=self.nr_conns)
            fewest = Worker.shares.fewest()
            self._crowded = fewest is not None and self.nr_conns > fewest + 1

    @property
    def max_keepalived(self) -> int:
        """How many idle connections gthread keeps alive: past it, a response says `Connection: close`.

        A crowded worker keeps none, so its connections are rebalanced: a
        client that reconnects gets the worker holding fewest. This mends
        what the accept can get wrong, counts read while another worker is
        still closing connections a load has left.
        """
        return 0 if self._crowded else self._max_keepalived

    @max_keepalived.setter
    def max_keepalived(self, value: int) -> None:
        self._max_keepalived = value

    def accept(self, listener):
        fewest = Worker.shares.fewest() if self.slot is not None else None
        if fewest is not None and self.nr_conns > fewest:
            self._pause()
            return
        super().accept(listener)
        self._publish()

    def set_accept_enabled(self, enabled):
        if self._paused_until is None:
            super().set_accept_enabled(enabled)
        else:
            self._accepting = enabled  # the listeners are out of the poller already; _resume follows this
        self._publish()

    def _pause(self) -> None:
        for listener in self.sockets:
            self.poller.unregister(listener)
        self._paused_until = time.monotonic() + ACCEPT_WAIT

    def _resume(self) -> None:
        """Back to accepting, taking at once a connection still waiting (gthread's accept returns quietly if
        another worker took it)."""
        self._paused_until = None
        if self._accepting:
            for listener in self.sockets:
                self.poller.register(listener, selectors.EVENT_READ, self.accept)
                super().accept(listener)
            self._publish()

    def wait_for_and_dispatch_events(self, timeout):
        if self._paused_until is not None:
            timeout = max(0.0, min(timeout, self._paused_until - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        if self._paused_until is not None and time.monotonic() >= self._paused_until:
            self._resume()

    def handle_quit(self, sig, frame):
        """Leave at once on a quick shutdown (the master's SIGQUIT after a Ctrl-C).

        gthread's own handler first shuts its thread pool down, which deadlocks
        when the signal lands inside the pool's submit() (the interrupted frame
        holds the lock) and leaves the worker to the master's SIGKILL after the
        graceful timeout. A quick quit drops in-flight requests anyway.
        """
        self.alive = False
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def init_signals(self):
        super().init_signals()
        # A terminal's Ctrl-C reaches the whole process group. Left to the master alone, it stops every worker
        # (SIGQUIT) while stopping; a worker quitting on its own first could be respawned, and the new one miss
        # the SIGQUIT and be SIGKILLed only after the graceful timeout.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def handle(self, conn):
        if not isinstance(conn.sock, DeadlineSocket):
            plain = conn.sock
            conn.sock = DeadlineSocket(plain.family, plain.type, plain.proto, fileno=plain.detach())
            conn.sock.read_seconds = self.read_seconds
        now = time.monotonic()
        if getattr(conn, "arrived", None) is None:
            conn.arrived, conn.request_started = bytearray(), now
        closed = _take_available(conn.sock, conn.arrived)
        if not closed and not request_complete(bytes(conn.arrived)):
            if now - conn.request_started > self.read_seconds:
                dropped(self.read_seconds)
                return False  # gthread closes it
            # Back to the poller, holding no thread; it wakes on new bytes, or is closed after the keep-alive
            # timeout without any.
            return gthread._DEFER
        conn.init()  # the parser, which reads what has arrived first (init is idempotent)
        conn.parser.unreader.unread(bytes(conn.arrived))
        conn.arrived = None  # the next request on this connection starts its own clock
        conn.sock.deadline = now + self.read_seconds
        return super().handle(conn)


def _take_available(sock: socket.socket, into: bytearray) -> bool:
    """Move what the socket holds into `into` without blocking (up to PEEK_BYTES); return True if the client closed."""
    while len(into) < PEEK_BYTES:
        try:
            chunk = socket.socket.recv(sock, PEEK_BYTES - len(into), socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True  # reset: gunicorn meets the same error on its read and closes the connection
        if not chunk:
            return True
        into += chunk
    return False
