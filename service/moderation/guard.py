"""Run the abuse rules for a submission: limits first (429), then the rules that shape the decision."""

from __future__ import annotations

import math

from ..errors import RateLimitedError
from ..storage.abuse import Admission, Admitter, ListCache
from .rules import LIST_NAMES, RuleSettings, Signals, evaluate

SUBJECTS = {"ip": "this IP address", "email": "this e-mail address", "site": "this site key"}


class Guard:
    """The rate limits, the lists and the duplicate detector of one instance."""

    def __init__(self, client, settings):
        self.admitter = Admitter(client, per_ip=settings.rate_limit_ip, per_email=settings.rate_limit_email,
                                 per_site=settings.rate_limit_site, flood_seconds=settings.flood_seconds,
                                 duplicate_window_days=settings.duplicate_window_days,
                                 duplicate_min_words=settings.duplicate_min_words)
        self.lists = ListCache(client, LIST_NAMES)
        self.rule_settings = RuleSettings(max_links=settings.max_links, min_submit_seconds=settings.min_submit_seconds,
                                          duplicate_reject_at=settings.duplicate_reject_at)

    def admit(self, submission: dict, *, ip: str | None, site: str | None, normalized: str,
              store: tuple[list[str], str] | None = None) -> Admission:
        """Count the submission against the limits (429 when one is exceeded) and its text against earlier ones.

        `normalized` is the normalised text, which the duplicate detector
        compares; `store` a comment to store if the text is new (see
        Admitter.admit).
        """
        admission = self.admitter.admit(ip=ip, email=submission["email"], site=site, normalized=normalized,
                                        store=store)
        if admission.exceeded:
            rule, kind, wait_ms = admission.exceeded
            seconds = max(1, math.ceil(wait_ms / 1000))
            if rule == "flood":
                detail = f"A comment was just posted from {SUBJECTS[kind]}; wait {seconds} s before the next one."
            else:
                detail = f"Too many comments from {SUBJECTS[kind]}; try again in {seconds} s."
            raise RateLimitedError(detail, retry_after=seconds, reason=rule, subject=kind)
        return admission

    def rules(self, submission: dict, admission: Admission | None = None) -> list:
        """The rules that fire: lists, links, honeypot, timing, e-mail, and the duplicate counts of `admission`.

        Without an admission (what /v1/score applies, and a submission's
        first decision) the text counts as new.
        """
        duplicates, near = (admission.duplicates, admission.near_duplicates) if admission else (0, 0)
        return evaluate(submission, Signals(duplicates, near, self.lists.get()), self.rule_settings)
