"""POST /v1/score: score up to 1,000 comments without storing anything.

The stateless rules apply (lists, links, honeypot, timing, disposable e-mail);
those that depend on earlier submissions (rate limits, flood, duplicates) do not.
"""

from __future__ import annotations

from flask import Blueprint, request

from ..errors import ValidationError
from ..moderation import intake
from ..moderation.scorer import features_of, rounded
from . import runtime
from .auth import require
from .bodies import read_json_object
from .params import MAX_BATCH, MAX_FEATURES, int_param
from .schemas import validate_submission

bp = Blueprint("score", __name__)


def validate_batch(body, fields) -> list[dict]:
    """Validate {"comments": [...]}; errors name the item, e.g. "comments[3].email"."""
    items = body.get("comments") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ValidationError([{"field": "comments", "message": "must be an array of comment objects"}])
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError([{"field": "comments", "message": f"must hold 1 to {MAX_BATCH} comments, got {len(items)}"}])
    cleaned, errors = [], []
    for i, item in enumerate(items):
        try:
            cleaned.append(validate_submission(item, fields))
        except ValidationError as exc:
            errors += [{**e, "field": f"comments[{i}]" + (f".{e['field']}" if e["field"] else "")} for e in exc.errors]
    if errors:
        raise ValidationError(errors)
    return cleaned


@bp.post("/v1/score")
@require("site")  # any token: up to 1,000 comments a call is too much CPU to offer anonymously
def score_comments():
    """Answer the decision each comment would get, in order, with reasons and features.

    `?explain=N` sets how many n-grams each result's `features` lists (0 to
    MAX_FEATURES, default FEATURES_SHOWN); 0 skips the explanations, which
    are a third of the scoring.
    """
    rt = runtime()
    explain = int_param(request.args.get("explain"), "explain", intake.FEATURES_SHOWN, 0, MAX_FEATURES)
    submissions = validate_batch(read_json_object(), rt.submission_fields)
    state = rt.models.state
    assessments = intake.preview(state, submissions, [rt.guard.rules(s) for s in submissions], explain=explain)
    return {"model_version": state.active.version, "results": results_of(assessments, explain)}


def results_of(assessments: list[intake.Assessment], explain: int) -> list[dict]:
    """The answer's results: each assessment's rounded score, decision, language, reasons and `explain` n-grams
    (the batch's weights and scores rounded at once, as Python's round rounds them)."""
    scores = [result.score for result in assessments]
    return [{
        "score": probability,
        "decision": result.decision.status,
        "language": result.language,
        "reasons": result.decision.reasons,
        "features": features,
    } for result, probability, features in zip(assessments, rounded([s.probability for s in scores], 6),
                                               features_of(scores, explain), strict=True)]
