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
"""

from __future__ import annotations

import errno
import logging
import os
import re
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


class Worker(gthread.ThreadWorker):
    """gthread where only requests that have arrived take a thread (see the module's docstring)."""

    def init_process(self):
        self.read_seconds = Settings.from_env().request_read_seconds
        super().init_process()

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
