"""Abuse rules that run beside the classifier.

Each rule that fires adds a named entry to `reasons` with an effect:
  reject  - the comment is rejected whatever the model says (honeypot, block lists, a text repeated too often);
  approve - the comment is approved unless a reject rule fired (allow lists);
  review  - the comment goes at least to review (links, duplicates, too fast, disposable e-mail).
Then the model decides within those bounds (`policy.within_rules`).

The duplicate rule is the only one that needs what Redis has seen: the
admission script sorts a text into one of `storage.scripts.TEXT_CLASSES` and `text_hit` says
what each class means.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from dataclasses import dataclass

import ahocorasick

from model_training.features import fold_accents, link_hosts

# Throw-away mail services, French ones included; extended with the `disposable_domains` list.
DISPOSABLE_DOMAINS = frozenset("""
mailinator.com guerrillamail.com guerrillamail.net sharklasers.com 10minutemail.com 10minutemail.net temp-mail.org
tempmail.com tempmailo.com throwawaymail.com trashmail.com trashmail.net yopmail.com yopmail.fr yopmail.net
jetable.org jetable.com mailcatch.com maildrop.cc getnada.com dispostable.com mintemail.com mohmal.com
fakeinbox.com spamgourmet.com mailnesia.com emailondeck.com tempr.email discard.email moakt.com
""".split())
LIST_NAMES = ("block_words", "block_emails", "block_urls", "block_ips", "allow_emails", "allow_ips",
              "disposable_domains")


@dataclass(frozen=True)
class Hit:
    """One rule that fired."""

    code: str
    message: str
    effect: str  # reject | approve | review

    def as_reason(self) -> dict:
        """The entry this hit adds to `reasons`."""
        return {"code": self.code, "message": self.message, "rule": True}


@dataclass(frozen=True)
class RuleSettings:
    """The thresholds of the rules (from Settings)."""

    max_links: int = 2
    min_submit_seconds: float = 5.0
    duplicate_reject_at: int = 3



def fold(text: str) -> str:
    """Case- and accent-insensitive form used for list matching."""
    return fold_accents(text.casefold())


def domain_matches(host: str, domains) -> str | None:
    """Return the listed domain that `host` is or is a subdomain of (the longest, when several are listed).

    Each of the host's suffixes is looked up, so a long list costs no more than a short one.
    """
    labels = host.split(".")
    for i in range(len(labels)):
        if (suffix := ".".join(labels[i:])) in domains:
            return suffix
    return None


class WordMatcher:
    """Find listed words and phrases in one pass over a text, whatever the size of the list (Aho-Corasick)."""

    def __init__(self, words):
        self.automaton = ahocorasick.Automaton()
        for word in words:
            key = fold(word).strip()
            if key:
                self.automaton.add_word(key, (len(key), word))
        self.empty = len(self.automaton) == 0
        if not self.empty:
            self.automaton.make_automaton()

    def find(self, text: str) -> str | None:
        """Return the first listed word or phrase found on word boundaries ("alla" does not match "allait")."""
        if self.empty:
            return None
        folded = fold(text)
        for end, (length, word) in self.automaton.iter(folded):
            start = end - length + 1
            if (start == 0 or not _is_word_char(folded[start - 1])) and \
                    (end + 1 == len(folded) or not _is_word_char(folded[end + 1])):
                return word
        return None


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@functools.lru_cache(maxsize=8)
def word_matcher(words: frozenset) -> WordMatcher:
    """The matcher of one version of a word list (the list cache hands out the same frozenset until it reloads)."""
    return WordMatcher(words)


def word_hit(text: str, words) -> str | None:
    """Return the first listed word or phrase found on word boundaries ("alla" does not match "allait")."""
    return word_matcher(frozenset(words)).find(text) if words else None


def ip_hit(ip: str | None, entries) -> str | None:
    """Return the listed address or network that contains the IP."""
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return entry
        except ValueError:
            continue
    return None


def email_hit(email: str, entries) -> str | None:
    """Return the listed address or domain that matches an e-mail address."""
    email = email.lower()
    domain = email.rsplit("@", 1)[-1]
    for entry in entries:
        entry = entry.lower()
        if email == entry or (entry.startswith("@") or "@" not in entry) and domain_matches(domain, [entry.lstrip("@")]):
            return entry
    return None


def links_in(submission: dict) -> list[str]:
    """The host of every link in the text (the same links the model sees)."""
    return link_hosts(submission["text"])


def parse_rendered_at(raw) -> dt.datetime | None:
    """The form's render time, given as ISO 8601 or Unix seconds (validated beforehand)."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return dt.datetime.fromtimestamp(raw, dt.UTC)
    moment = dt.datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def rule_hits(submission: dict, lists: dict, settings: RuleSettings, now: dt.datetime | None = None) -> list[Hit]:
    """Run every rule but the duplicate rule (see `text_hit`); return the hits in a stable order.

    `lists` maps each of LIST_NAMES to its entries.
    """
    hits: list[Hit] = []
    if submission.get("honeypot"):
        hits.append(Hit("honeypot", "The hidden honeypot field was filled in, as only bots do.", "reject"))
    text_and_name = f"{submission['name']}\n{submission['text']}"
    if word := word_hit(text_and_name, lists.get("block_words", ())):
        hits.append(Hit("blocked_word", f"Contains the blocked word or phrase {word!r}.", "reject"))
    if entry := email_hit(submission["email"], lists.get("block_emails", ())):
        hits.append(Hit("blocked_email", f"The e-mail address matches the block list entry {entry!r}.", "reject"))
    links = links_in(submission)
    hosts = set(links) | set(link_hosts(submission["url"]) if submission.get("url") else ())  # one URL reader
    for host in sorted(hosts):
        if domain := domain_matches(host, lists.get("block_urls", ())):
            hits.append(Hit("blocked_url", f"Links to the blocked domain {domain!r}.", "reject"))
            break
    if entry := ip_hit(submission.get("ip"), lists.get("block_ips", ())):
        hits.append(Hit("blocked_ip", f"Sent from the blocked address or network {entry}.", "reject"))
    if email_hit(submission["email"], lists.get("allow_emails", ())) or ip_hit(submission.get("ip"),
                                                                                lists.get("allow_ips", ())):
        hits.append(Hit("allow_listed", "The author is on the allow list.", "approve"))
    if settings.max_links and len(links) >= settings.max_links:
        hits.append(Hit("many_links", f"Contains {len(links)} links (review from {settings.max_links}).", "review"))
    rendered = parse_rendered_at(submission.get("form_rendered_at"))
    now = now or dt.datetime.now(dt.UTC)
    if rendered is not None and settings.min_submit_seconds:
        elapsed = (now - rendered).total_seconds()
        if elapsed < settings.min_submit_seconds:
            hits.append(Hit("submitted_too_fast", f"Sent {max(elapsed, 0):.1f} s after the form was shown "
                                                  f"(at least {settings.min_submit_seconds:g} s expected).", "review"))
    domain = submission["email"].rsplit("@", 1)[-1].lower()
    if domain_matches(domain, DISPOSABLE_DOMAINS) or domain_matches(domain, lists.get("disposable_domains", ())):
        hits.append(Hit("disposable_email", f"{domain} is a throw-away e-mail service.", "review"))
    return hits


def text_hit(text_class: str, settings: RuleSettings) -> Hit | None:
    """The duplicate rule: what a text of this class (one of storage.scripts.TEXT_CLASSES) adds to the decision."""
    if text_class == "repeated_text":
        return Hit("repeated_text", f"The same text was submitted {settings.duplicate_reject_at} times or more.",
                   "reject")
    if text_class == "duplicate_text":
        return Hit("duplicate_text", "The same text was submitted before.", "review")
    if text_class == "near_duplicate_text":
        return Hit("near_duplicate_text", "An almost identical text was submitted before.", "review")
    return None
