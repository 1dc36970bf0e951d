"""Run the abuse rules for a submission: limits first (429), then the rules that shape the decision."""

from __future__ import annotations

import math

from ..errors import TOKEN_REFUSED, AuthenticationError, RateLimitedError
from ..storage.abuse import Admission, Admitter, ListCache
from ..storage.comments import NewComment
from ..storage.scripts import TEXT_CLASSES
from ..storage.tokens import StillValid
from .rules import LIST_NAMES, Hit, RuleSettings, rule_hits, text_hit

SUBJECTS = {"ip": "this IP address", "email": "this e-mail address", "site": "this site key"}


class Guard:
    """The rate limits, the lists and the duplicate detector of one instance."""

    def __init__(self, client, settings):
        self.admitter = Admitter(client, per_ip=settings.rate_limit_ip, per_email=settings.rate_limit_email,
                                 per_site=settings.rate_limit_site, flood_seconds=settings.flood_seconds,
                                 duplicate_window_days=settings.duplicate_window_days,
                                 duplicate_min_words=settings.duplicate_min_words,
                                 duplicate_reject_at=settings.duplicate_reject_at)
        self.lists = ListCache(client, LIST_NAMES)
        self.rule_settings = RuleSettings(max_links=settings.max_links, min_submit_seconds=settings.min_submit_seconds,
                                          duplicate_reject_at=settings.duplicate_reject_at)
        # The duplicate rule's hit for each class of text admission can find.
        self.text_hits: dict[str, Hit | None] = {text_class: text_hit(text_class, self.rule_settings)
                                                 for text_class in TEXT_CLASSES}

    def admit(self, submission: dict, *, ip: str | None, site: str | None, normalized: str,
              comment: NewComment | None = None, expire_ms: dict[str, int] | None = None,
              site_check: StillValid | None = None) -> Admission:
        """Count the submission against the limits (429 when one is exceeded), class its text, store `comment`.

        `normalized` is the normalised text, which the duplicate detector
        compares; `comment` is stored with the outcome of that class (see
        Admitter.admit). A site key whose `site_check` fails is refused (401).
        """
        admission = self.admitter.admit(ip=ip, email=submission["email"], site=site, normalized=normalized,
                                        comment=comment, expire_ms=expire_ms, site_check=site_check)
        if admission.token_refused:
            raise AuthenticationError(TOKEN_REFUSED)
        if admission.exceeded:
            rule, kind, wait_ms = admission.exceeded
            seconds = max(1, math.ceil(wait_ms / 1000))
            if rule == "flood":
                detail = f"A comment was just posted from {SUBJECTS[kind]}; wait {seconds} s before the next one."
            else:
                detail = f"Too many comments from {SUBJECTS[kind]}; try again in {seconds} s."
            raise RateLimitedError(detail, retry_after=seconds, reason=rule, subject=kind)
        return admission

    def rules(self, submission: dict) -> list[Hit]:
        """The rules that fire but the duplicate rule: lists, links, honeypot, timing, e-mail."""
        return rule_hits(submission, self.lists.get(), self.rule_settings)

