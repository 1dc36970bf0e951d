"""Helper processes that take part of a large batch, so that one `POST /v1/score` call uses more than one core.

A worker serves a call on one core: its threads share one interpreter lock.
A batch's comments are scored independently of each other, so a worker with
idle helpers splits a large batch into equal parts, sends all but the first
to its helpers and does the first itself; the answer is the parts in order,
the same as if the worker had done all of it (tested).

The helpers are forked from the worker before it starts any thread (gunicorn's
`post_fork` hook), so each is a copy of the worker with the same model, no
thread and no lock held. A helper runs one part at a time and lives as long
as its worker: it exits when the worker's end of its pipe closes. It never
serves a connection (its copies of the listening sockets are closed) and
ignores Ctrl-C, which the terminal sends to the whole process group: its
worker stops it by closing the pipe.

Nothing depends on a helper. A busy helper is not waited for (the worker
splits among the idle ones), and a part a helper declines, fails, does not
answer within `timeout` or cannot be sent because it died is done by the
worker itself. A helper that died is not replaced (forking a worker that
runs threads is not safe); the worker goes on with the others, or alone.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, Pipe

log = logging.getLogger("service.helpers")

# A batch is split only into parts of at least this many items: below it, sending a part costs more than it saves.
MIN_PART = 50
# What a helper answers when the worker must do the part itself.
_NONE = object()
# What a helper's copies of gunicorn's signal handlers are reset to: the default (Ctrl-C is ignored).
_SIGNALS = ("SIGHUP", "SIGQUIT", "SIGTERM", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD")


class Declined(Exception):
    """Raised by a part's function in a helper that cannot do that part as the worker would (it then does it)."""


class _Helper:
    def __init__(self, pid: int, connection: Connection):
        self.pid = pid
        self.connection = connection
        self.lock = threading.Lock()  # held by the request thread whose part the helper is running
        self.alive = True


class Helpers:
    """A worker's helper processes (none until `start`)."""

    def __init__(self, count: int, context, timeout: float = 60.0):
        self.count = count
        self.context = context  # what each part's function is given, here and in the helpers
        self.timeout = timeout
        # Told of each part as it is done ("worker" or "helper") and of each helper lost ("lost"): the metrics.
        self.record: Callable[[str], None] = lambda event: None
        self._helpers: list[_Helper] = []

    @property
    def alive(self) -> int:
        """How many helpers can still take a part."""
        return sum(helper.alive for helper in self._helpers)

    def start(self, *, close: Sequence = ()) -> None:
        """Fork the helpers. Call it in a process that runs no other thread (a helper's copy of a lock held
        elsewhere would never be released); `close` lists what a helper must not keep open (the listening
        sockets)."""
        for _ in range(self.count):
            ours, theirs = Pipe()
            # Signals wait until the helper has its own handlers: the worker's would act on the worker's behalf.
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
            pid = os.fork()
            if pid == 0:
                ours.close()
                for helper in self._helpers:
                    helper.connection.close()
                for item in close:
                    item.close()
                _serve(self.context, theirs, blocked)  # never returns
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            theirs.close()
            self._helpers.append(_Helper(pid, ours))

    def stop(self) -> None:
        """Close every pipe (each helper then exits) and wait for the helpers."""
        for helper in self._helpers:
            helper.connection.close()
            helper.alive = False
        for helper in self._helpers:
            try:
                os.waitpid(helper.pid, 0)
            except ChildProcessError:
                pass
        self._helpers = []

    def split(self, fn: Callable, items: list, *args) -> list:
        """`fn(context, part, offset, *args)` for consecutive parts of `items` (offset: the part's first item's
        index in `items`), the first here and the others on idle helpers; the answers in order. `fn` must be a
        module-level function: it is sent by name, and a helper runs its own copy with its own copy of
        `context`."""
        idle = self._take_idle(len(items) // MIN_PART - 1)
        try:
            bounds = [len(items) * k // (len(idle) + 1) for k in range(len(idle) + 2)]
            here, *there = [(items[start:end], start) for start, end in itertools.pairwise(bounds)]
            sent = [self._send(helper, (fn, *part, *args)) for helper, part in zip(idle, there, strict=True)]
            try:
                answers = [fn(self.context, *here, *args)]
            except BaseException:
                for helper, was_sent in zip(idle, sent, strict=True):
                    if was_sent:  # read and dropped: left in the pipe, it would answer the helper's next part
                        self._receive(helper)
                raise
            self.record("worker")
            for helper, was_sent, part in zip(idle, sent, there, strict=True):
                answer = self._receive(helper) if was_sent else _NONE
                answers.append(fn(self.context, *part, *args) if answer is _NONE else answer)
                self.record("worker" if answer is _NONE else "helper")
            return answers
        finally:
            for helper in idle:
                helper.lock.release()

    def _take_idle(self, most: int) -> list[_Helper]:
        taken = []
        for helper in self._helpers:
            if len(taken) >= most:
                break
            if helper.alive and helper.lock.acquire(blocking=False):
                if helper.alive:
                    taken.append(helper)
                else:
                    helper.lock.release()
        return taken

    def _send(self, helper: _Helper, task: tuple) -> bool:
        try:
            helper.connection.send(task)
            return True
        except OSError:
            self._lost(helper, "its pipe is closed")
            return False

    def _receive(self, helper: _Helper):
        """The helper's answer, or _NONE when the worker must do the part itself."""
        try:
            if not helper.connection.poll(self.timeout):
                os.kill(helper.pid, signal.SIGKILL)
                self._lost(helper, f"no answer within {self.timeout:g} s", killed=True)
                return _NONE
            status, value = helper.connection.recv()
        except (OSError, EOFError):
            self._lost(helper, "it exited")
            return _NONE
        if status == "failed":
            log.warning("helper %d could not do its part of a batch, done by the worker: %s", helper.pid, value)
        return value if status == "ok" else _NONE

    def _lost(self, helper: _Helper, why: str, killed: bool = False) -> None:
        helper.alive = False
        helper.connection.close()
        try:  # reaped now if it is dead; one that is still exiting stays a zombie until the worker exits
            os.waitpid(helper.pid, 0 if killed else os.WNOHANG)
        except ChildProcessError:
            pass
        log.warning("helper %d is gone (%s); its worker goes on with %d helper(s)", helper.pid, why, self.alive)
        self.record("lost")


def _serve(context, connection: Connection, mask: set) -> None:
    """A helper's life: run each part it is sent, answer, and exit when the worker closes the pipe. Signals are
    blocked on entry; `mask` is the one to restore once the helper's own handlers are in place."""
    for name in _SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    try:
        with open("/proc/self/comm", "w") as comm:  # what ps -o comm and top show, beside the worker's command line
            comm.write("score-helper")
    except OSError:  # not Linux
        pass
    status = 0
    try:
        while True:
            try:
                fn, part, offset, *args = connection.recv()
            except EOFError:
                break
            try:
                answer = ("ok", fn(context, part, offset, *args))
            except Declined:
                answer = ("declined", None)
            except Exception as exc:  # the worker does the part (and reports the error if it meets it too)
                answer = ("failed", type(exc).__name__)  # not its message, which might quote a comment
            connection.send(answer)
    except BaseException:  # the pipe broke mid-answer, or worse: nothing to report to, and nothing to clean up
        status = 1
    os._exit(status)  # not the worker's exit handlers

