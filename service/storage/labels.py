"""Moderators' decisions as labelled data: the stream in Redis, the archive of daily files, the export.

A decision appends one entry to the label stream (scripts.DECIDE), in the
same atomic step as the decision itself. The exporter, run by one instance
at a time under a lease in Redis, appends the stream's entries to the
archive, one JSON line per decision in daily files (`labels-YYYY-MM-DD.jsonl`,
the UTC day of the decision), fsyncs them, and only then trims what it wrote
from the stream. The archive's last line says how far it got, so an exporter
killed mid-write loses nothing and writes nothing twice: the next run cuts
the unfinished line and starts after the last complete one.

A change of mind is one more line; when labels are read, the newest decision
on a comment wins and the earlier ones are listed as its `revisions`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from . import keys, scripts
from .client import UNAVAILABLE

FILE_GLOB = "labels-*.jsonl"
TAIL_BLOCK = 64 * 1024

log = logging.getLogger("service.labels")


def _entry_ms(event_id: str) -> int:
    return int(event_id.split("-", 1)[0])


def _id_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def _day(event_id: str) -> str:
    return dt.datetime.fromtimestamp(_entry_ms(event_id) / 1000, dt.UTC).strftime("%Y-%m-%d")


def _last_line(path: Path) -> bytes:
    """The last complete line of a file, without its newline (b"" if none); an unfinished last line is cut off."""
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        block = TAIL_BLOCK
        while True:
            start = max(0, size - block)
            f.seek(start)
            tail = f.read(size - start)
            end = tail.rfind(b"\n")
            if end < 0 and start > 0:
                block *= 2  # no line end in the block: read more
                continue
            if end + 1 < len(tail):  # an unfinished last line: cut it
                f.truncate(start + end + 1)
                os.fsync(f.fileno())
                size, tail = start + end + 1, tail[:end + 1]
            body = tail[:-1]
            previous = body.rfind(b"\n")
            if previous >= 0 or start == 0:
                return body[previous + 1:]
            block *= 2  # the last line is longer than the block


class LabelArchive:
    """The daily label files in one directory (MODERATION_LABELS_DIR), each line one decision with its `event_id`."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def files(self) -> list[Path]:
        """The archive's files, oldest day first."""
        return sorted(self.directory.glob(FILE_GLOB)) if self.directory.is_dir() else []

    def last_event_id(self) -> str | None:
        """The stream id of the last complete line, after cutting an unfinished one (a write cut short)."""
        for path in reversed(self.files()):
            line = _last_line(path)
            if line:
                return json.loads(line)["event_id"]
        return None

    def append(self, entries: list[tuple[str, dict]]) -> None:
        """Append (stream id, label) entries, in order, to their days' files, and make them durable."""
        self.directory.mkdir(parents=True, exist_ok=True)
        by_day: dict[str, list[str]] = {}
        for event_id, label in entries:
            line = json.dumps({"event_id": event_id, **label}, ensure_ascii=False) + "\n"
            by_day.setdefault(_day(event_id), []).append(line)
        for day, lines in by_day.items():
            path = self.directory / f"labels-{day}.jsonl"
            new = not path.exists()
            with path.open("a", encoding="utf-8") as f:
                f.writelines(lines)
                f.flush()
                os.fsync(f.fileno())
            if new:  # the new file's name must be durable too
                fd = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def events(self, since_ms: int | None = None) -> Iterator[dict]:
        """Every archived decision in order, from the day of `since_ms` on; an unfinished last line is skipped."""
        first_day = _day(f"{since_ms}-0") if since_ms is not None else ""
        for path in self.files():
            if path.name < f"labels-{first_day}":
                continue
            with path.open(encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        yield json.loads(line)


def stream_events(client) -> list[dict]:
    """The decisions still in the stream (not yet archived), in order."""
    return [{"event_id": event_id, **json.loads(fields["label"])}
            for event_id, fields in client.xrange(keys.label_stream())]


def _events(archive: LabelArchive, pending: list[dict], since_ms: int | None) -> Iterator[dict]:
    """The archive's decisions, then those of `pending` (read from the stream earlier) not archived since."""
    last = None
    for event in archive.events(since_ms):
        last = event["event_id"]
        yield event
    for event in pending:
        if last is None or _id_key(event["event_id"]) > _id_key(last):
            yield event


def iter_labels(client, archive: LabelArchive, since_ms: int | None = None) -> Iterator[dict]:
    """Yield one label per comment, the newest decision with the earlier ones as `revisions`, in decision order.

    The stream is read before the archive, so an entry the exporter moves in
    between is read from the archive. Two passes over the files keep memory
    small (a year of labels is not held at once): the first finds each
    comment's newest decision, the second yields it. `since_ms` keeps
    comments whose newest decision was made at or after it (revisions older
    than its day are not listed).
    """
    pending = stream_events(client)
    newest: dict[str, str] = {}
    end = None
    for event in _events(archive, pending, since_ms):
        newest[event["comment_id"]] = end = event["event_id"]
    if end is None:
        return
    revisions: dict[str, list[dict]] = {}
    for event in _events(archive, pending, since_ms):
        if _id_key(event["event_id"]) > _id_key(end):
            break  # archived after the first pass: not in this snapshot
        comment_id = event["comment_id"]
        if newest[comment_id] != event["event_id"]:
            revisions.setdefault(comment_id, []).append({k: event.get(k) for k in ("label", "decided_by",
                                                                                   "decided_at")})
        elif since_ms is None or _entry_ms(event["event_id"]) >= since_ms:
            # The label as scripts.DECIDE wrote it (the one place that says what a label holds).
            label = {k: v for k, v in event.items() if k != "event_id"}
            yield {**label, "revisions": revisions.pop(comment_id, None)}


def export_lines(client, archive: LabelArchive, since_ms: int | None = None) -> Iterator[str]:
    """Yield the JSONL export, one label per line."""
    for record in iter_labels(client, archive, since_ms):
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _next_id(event_id: str) -> str:
    ms, seq = _id_key(event_id)
    return f"{ms}-{seq + 1}"


class LabelExporter:
    """Move decisions from the stream to the archive: one instance at a time, under a lease in Redis."""

    def __init__(self, client, archive: LabelArchive, *, lease_ms: int = 60_000, batch: int = 1000):
        self.client = client
        self.archive = archive
        self.lease_ms = lease_ms
        self.batch = batch
        self.token = secrets.token_hex(8)
        self._renew = client.register_script(scripts.RENEW_LEASE)
        self._release = client.register_script(scripts.RELEASE_LEASE)

    def export_once(self) -> int:
        """Archive everything in the stream if this instance gets the lease; return how many decisions it wrote."""
        lease = keys.label_exporter_lease()
        if not self.client.set(lease, self.token, nx=True, px=self.lease_ms):
            return 0
        written = 0
        try:
            while True:
                last = self.archive.last_event_id()
                entries = self.client.xrange(keys.label_stream(), min=f"({last}" if last else "-", count=self.batch)
                if not entries:
                    break
                self.archive.append([(event_id, json.loads(fields["label"])) for event_id, fields in entries])
                # Trim only what is now durable in the archive (and anything older a dead exporter left).
                self.client.xtrim(keys.label_stream(), minid=_next_id(entries[-1][0]))
                written += len(entries)
                if not self._renew(keys=[lease], args=[self.token, self.lease_ms]):
                    break  # the lease was lost: another instance goes on from the archive's last line
        finally:
            self._release(keys=[lease], args=[self.token])
        return written

    def run_forever(self, every: float = 1.0) -> None:
        """Export every `every` seconds until the process ends; Redis outages and full disks only pause it."""
        while True:
            try:
                self.export_once()
                time.sleep(every)
            except UNAVAILABLE:
                time.sleep(2)
            except OSError:
                log.exception("cannot write the label archive in %s; retrying", self.archive.directory)
                time.sleep(10)
            except Exception:  # the exporter must never die; log and start over
                log.exception("label exporter failed; restarting it")
                time.sleep(2)
