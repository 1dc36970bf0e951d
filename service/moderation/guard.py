"""Run the abuse rules for a submission: limits first (429), then the rules that shape the decision."""

from __future__ import annotations

import math

from model_training.features import normalize_text

from ..errors import RateLimitedError
from ..storage.abuse import ListCache, Limits, text_signals
from .rules import LIST_NAMES, RuleSettings, Signals, evaluate

SUBJECTS = {"ip": "this IP address", "email": "this e-mail address", "site": "this site key"}


class Guard:
    """The rate limits, the lists and the duplicate detector of one instance."""

    def __init__(self, client, settings):
        self.client = client
        self.limits = Limits(client, per_ip=settings.rate_limit_ip, per_email=settings.rate_limit_email,
                             per_site=settings.rate_limit_site, flood_seconds=settings.flood_seconds)
        self.lists = ListCache(client, LIST_NAMES)
        self.rule_settings = RuleSettings(max_links=settings.max_links, min_submit_seconds=settings.min_submit_seconds,
                                          duplicate_reject_at=settings.duplicate_reject_at)
        self.duplicate_window_days = settings.duplicate_window_days
        self.duplicate_min_words = settings.duplicate_min_words

    def admit(self, *, ip: str | None, email: str, site: str | None) -> None:
        """Count the submission against the limits; raise RateLimitedError (429) when one is exceeded."""
        exceeded = self.limits.check(ip=ip, email=email, site=site)
        if exceeded is None:
            return
        rule, kind, wait_ms = exceeded
        seconds = max(1, math.ceil(wait_ms / 1000))
        if rule == "flood":
            detail = f"A comment was just posted from {SUBJECTS[kind]}; wait {seconds} s before the next one."
        else:
            detail = f"Too many comments from {SUBJECTS[kind]}; try again in {seconds} s."
        raise RateLimitedError(detail, retry_after=seconds, reason=rule, subject=kind)

    def evaluate(self, submission: dict, *, stateful: bool = True) -> list:
        """The rules that fire for a submission; `stateful` also counts it for duplicate detection."""
        duplicates = near = 0
        if stateful:
            duplicates, near = text_signals(self.client, normalize_text(submission["text"]),
                                            window_days=self.duplicate_window_days, min_words=self.duplicate_min_words)
        signals = Signals(duplicates=duplicates, near_duplicates=near, lists=self.lists.get())
        return evaluate(submission, signals, self.rule_settings)
