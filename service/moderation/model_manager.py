"""The models an instance serves, kept in step with the registry in Redis without restarts.

Requests read `manager.state` once and use that snapshot throughout, so a
switch never mixes two models in one request and never fails one in flight.
A watcher thread per process follows the registry: a pub/sub message makes it
switch within a second, and a periodic check catches anything missed while
Redis or the subscription was down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from model_training.artifact import ArtifactError, model_in_root
from model_training.features import TRUSTED_DOMAINS

from ..errors import ModelError
from ..storage import keys, model_registry
from ..storage.client import UNAVAILABLE, connect
from .model import LoadedModel, load_model
from .policy import Bounds, Thresholds

log = logging.getLogger("service.models")


@dataclass(frozen=True)
class ModelState:
    """One consistent snapshot: the active model, the thresholds in force, and the shadow model if any."""

    active: LoadedModel
    thresholds: Thresholds
    shadow: LoadedModel | None = None
    shadow_thresholds: Thresholds | None = None  # the shadow model's own, never the overrides


def thresholds_of(model: LoadedModel, overrides: tuple = (None, None), *, approve_unfamiliar: bool = False,
                  trusted_domains: frozenset = TRUSTED_DOMAINS) -> Thresholds:
    """A model's thresholds; an override replaces that threshold for every language (the approve-below
    override replaces the one for texts of several sentences too)."""
    approve_below, reject_at = overrides

    def bounds(own: dict) -> Bounds:
        parts = own.get("approve_parts_below")
        return Bounds(own["approve_below"] if approve_below is None else approve_below,
                      own["reject_at"] if reject_at is None else reject_at,
                      parts if approve_below is None or parts is None else approve_below)

    own = bounds(model.thresholds)
    return Thresholds(approve_below=own.approve_below, reject_at=own.reject_at,
                      approve_parts_below=own.approve_parts_below, approve_unfamiliar=approve_unfamiliar,
                      trusted_domains=trusted_domains,
                      by_language={language: bounds(pair)
                                   for language, pair in model.thresholds.get("by_language", {}).items()})


class ModelManager:
    """Load the configured model, then follow the active and shadow records in Redis."""

    def __init__(self, client, *, model_dir: Path, models_root: Path, approve_below: float | None = None,
                 reject_at: float | None = None, approve_unfamiliar: bool = False,
                 trusted_domains: frozenset = TRUSTED_DOMAINS, poll_seconds: float = 5.0,
                 redis_url: str | None = None):
        self.client = client
        self.models_root = Path(models_root)
        self.overrides = (approve_below, reject_at)
        self.approve_unfamiliar = approve_unfamiliar
        self.trusted_domains = trusted_domains
        self.poll_seconds = poll_seconds
        self.redis_url = redis_url
        self.last_error: str | None = None
        self._lock = threading.Lock()
        self._watcher_pid: int | None = None
        self.state = self._state_for(load_model(model_dir), None)
        try:
            self.refresh()
        except UNAVAILABLE:
            log.warning("Redis unreachable at start: serving %s until the registry can be read", self.state.active.version)

    def thresholds_for(self, model: LoadedModel, overrides: tuple = (None, None)) -> Thresholds:
        """The model's thresholds with this instance's settings; an override replaces one for every language."""
        return thresholds_of(model, overrides, approve_unfamiliar=self.approve_unfamiliar,
                             trusted_domains=self.trusted_domains)

    def _state_for(self, active: LoadedModel, shadow: LoadedModel | None) -> ModelState:
        return ModelState(active=active, thresholds=self.thresholds_for(active, self.overrides), shadow=shadow,
                          shadow_thresholds=self.thresholds_for(shadow) if shadow else None)

    def _load(self, record: dict | None, current: LoadedModel | None) -> LoadedModel | None:
        if not record:
            return None
        if current is not None and current.identity == (record["version"], record["sha256"]):
            return current
        try:
            directory = model_in_root(self.models_root, record["version"])
        except ArtifactError as exc:
            raise ModelError(str(exc)) from exc
        return load_model(directory, expected_sha256=record["sha256"])

    def refresh(self) -> bool:
        """Load what the registry names, if it changed; return True when the state changed."""
        with self._lock:
            active_record = model_registry.read(self.client, keys.active_model())
            shadow_record = model_registry.read(self.client, keys.shadow_model())
            state = self.state
            try:
                active = self._load(active_record, state.active) or state.active
                shadow = self._load(shadow_record, state.shadow)
            except ModelError as exc:
                if self.last_error != exc.detail:
                    log.error("cannot switch model, still serving %s: %s", state.active.version, exc.detail)
                self.last_error = exc.detail
                return False
            self.last_error = None
            if active is state.active and shadow is state.shadow:
                return False
            self.state = self._state_for(active, shadow)
            log.info("now serving model %s%s", active.version, f" with shadow {shadow.version}" if shadow else "")
            return True

    def state_for(self, identity: tuple[str, str]) -> ModelState | None:
        """The state whose active model has this identity (LoadedModel.identity): the one in force, or the one
        the registry names once re-read; None if neither has it."""
        if self.state.active.identity != identity:
            self.refresh()
        state = self.state
        return state if state.active.identity == identity else None

    def ensure_watcher(self) -> None:
        """Start this process's watcher thread once (after a fork, the child starts its own)."""
        if self._watcher_pid == os.getpid():
            return
        self._watcher_pid = os.getpid()
        threading.Thread(target=self._watch, name="model-watcher", daemon=True).start()

    def _watch(self) -> None:
        listener = connect(self.redis_url, timeout=self.poll_seconds + 5, max_connections=4) \
            if self.redis_url else self.client
        while True:
            try:
                pubsub = listener.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(keys.model_channel())
                self.refresh()
                last_check = time.monotonic()
                while True:
                    message = pubsub.get_message(timeout=self.poll_seconds)
                    if message or time.monotonic() - last_check >= self.poll_seconds:
                        self.refresh()
                        last_check = time.monotonic()
            except UNAVAILABLE:
                time.sleep(self.poll_seconds)
            except Exception:  # the watcher must never die; log and start over
                log.exception("model watcher failed; restarting it")
                time.sleep(self.poll_seconds)
