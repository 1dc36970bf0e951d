"""How a shadow model compares with the active one, and with the moderators' labels."""

from __future__ import annotations

import json
from collections import Counter

from ..storage import keys


def fare(status: str, label: int) -> str:
    """How a decision fares against a human label: correct, wrong, or sent to review."""
    if status == "pending":
        return "review"
    return "correct" if (status == "rejected") == (label == 1) else "wrong"


def shadow_report(client, version: str, *, differences_shown: int = 50) -> dict:
    """Agreement with the active decisions, the comments where they differ, and both against the labels so far.

    A comment's label is its status when a person decided it, read from its
    record while Redis keeps it (MODERATION_RETAIN_DECIDED_DAYS).
    """
    results = {cid: json.loads(raw) for cid, raw in client.hgetall(keys.shadow_results(version)).items()}
    ids = sorted(results)
    agree = sum(1 for r in results.values() if r["status"] == r["active_status"])
    transitions = Counter(f"{r['active_status']}->{r['status']}" for r in results.values())
    differing = [{"id": cid, "active_status": results[cid]["active_status"], "active_score": results[cid]["active_score"],
                  "shadow_status": results[cid]["status"], "shadow_score": results[cid]["score"]}
                 for cid in reversed(ids) if results[cid]["status"] != results[cid]["active_status"]]
    pipe = client.pipeline(transaction=False)
    for cid in ids:
        pipe.hmget(keys.comment(cid), "status", "decided_by")
    versus = {"labelled": 0, "active": Counter(), "shadow": Counter()}
    for cid, (status, decided_by) in zip(ids, pipe.execute() if ids else [], strict=True):
        if not decided_by:  # not decided by a person (or expired from Redis)
            continue
        label = int(status == "rejected")
        versus["labelled"] += 1
        versus["active"][fare(results[cid]["active_status"], label)] += 1
        versus["shadow"][fare(results[cid]["status"], label)] += 1
    return {
        "version": version,
        "compared": len(results),
        "agreement": round(agree / len(results), 4) if results else None,
        "transitions": dict(sorted(transitions.items())),
        "differences": differing[:differences_shown],
        "differences_total": len(differing),
        "against_labels": {"labelled": versus["labelled"],
                           "active": {k: versus["active"][k] for k in ("correct", "wrong", "review")},
                           "shadow": {k: versus["shadow"][k] for k in ("correct", "wrong", "review")}},
    }
