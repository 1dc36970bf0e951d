"""The threads each worker process runs beside requests: the model watcher, the webhook deliverer, the label exporter.

The deliverer (which also runs the retention sweep) and the label exporter
can be switched off per instance with MODERATION_DELIVER_WEBHOOKS=false; at
least one instance must run them. The exporter works under a lease, so one
process at a time writes the label archive.

They are started on a process's first request, so that gunicorn's forked
workers each get their own (threads do not survive a fork).
"""

from __future__ import annotations

import os
import threading

from .clock import now_ms
from .moderation.webhooks import Deliverer
from .runtime import Runtime
from .storage import retention
from .storage.client import connect
from .storage.labels import LabelArchive, LabelExporter


class Background:
    """Start the background threads once per process."""

    def __init__(self, runtime: Runtime, metrics=None):
        self.runtime = runtime
        self.metrics = metrics
        self._pid: int | None = None
        self._lock = threading.Lock()

    def deliverer(self, client=None) -> Deliverer:
        """A deliverer configured from the settings (own client: it blocks on the outbox)."""
        settings = self.runtime.settings
        client = client or connect(settings.redis_url, timeout=10, max_connections=4)
        record = (lambda result: self.metrics.webhooks.labels(result).inc()) if self.metrics else None
        return Deliverer(client, timeout=settings.webhook_timeout, max_attempts=settings.webhook_max_attempts,
                         backoff_base=settings.webhook_backoff_seconds, on_result=record,
                         maintenance=lambda: retention.sweep(client, now_ms=now_ms(),
                                                             keep_personal_days=settings.keep_personal_days))

    def label_exporter(self, client=None) -> LabelExporter:
        """The label exporter, writing to MODERATION_LABELS_DIR."""
        settings = self.runtime.settings
        client = client or connect(settings.redis_url, timeout=10, max_connections=2)
        return LabelExporter(client, LabelArchive(settings.labels_dir))

    def ensure_started(self) -> None:
        """Start this process's threads if they are not running yet."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.runtime.models.ensure_watcher()
            if self.runtime.settings.run_deliverer:
                threading.Thread(target=self.deliverer().run_forever, name="webhook-deliverer", daemon=True).start()
                threading.Thread(target=self.label_exporter().run_forever, name="label-exporter", daemon=True).start()
