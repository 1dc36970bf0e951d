"""The shipped list of trusted domains (news outlets, institutions), and how a list of domains is read.

Kept apart from features.py, which uses it, so that the service's settings
can read a list without loading scikit-learn.
"""

from __future__ import annotations

from pathlib import Path


def read_domain_list(path: Path) -> frozenset[str]:
    """Read a list of domains: whitespace-separated, `#` starts a comment, case-insensitive."""
    words = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        words += line.split("#", 1)[0].lower().split()
    return frozenset(words)


TRUSTED_DOMAINS = read_domain_list(Path(__file__).with_name("lists") / "trusted_domains.txt")
