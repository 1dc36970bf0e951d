"""POST /v1/score: score up to 1,000 comments without storing anything.

The stateless rules apply (lists, links, honeypot, timing, disposable e-mail);
those that depend on earlier submissions (rate limits, flood, duplicates) do not.
"""

from __future__ import annotations

from flask import Blueprint, request

from ..errors import ValidationError
from ..helpers import Declined
from ..moderation import intake
from ..moderation.scorer import features_of, rounded
from . import runtime
from .auth import require
from .bodies import read_json_object
from .params import MAX_BATCH, MAX_FEATURES, int_param
from .schemas import validate_submission

bp = Blueprint("score", __name__)


def batch_items(body) -> list:
    """The comments of {"comments": [...]}, unvalidated, once it holds 1 to MAX_BATCH of them."""
    items = body.get("comments") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ValidationError([{"field": "comments", "message": "must be an array of comment objects"}])
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError([{"field": "comments", "message": f"must hold 1 to {MAX_BATCH} comments, got {len(items)}"}])
    return items


def validated(items: list, fields, offset: int = 0) -> tuple[list[dict], list[dict]]:
    """The valid submissions among `items` and the errors of the others, each naming its item by its index in the
    batch (`offset` is the first item's), e.g. "comments[3].email"."""
    cleaned, errors = [], []
    for i, item in enumerate(items, start=offset):
        try:
            cleaned.append(validate_submission(item, fields))
        except ValidationError as exc:
            errors += [{**e, "field": f"comments[{i}]" + (f".{e['field']}" if e["field"] else "")} for e in exc.errors]
    return cleaned, errors


def score_part(rt, items: list, offset: int, explain: int, model: tuple[str, str]) -> tuple[list[dict], list[dict]]:
    """Validate and judge a part of a batch (`offset`: its first item's index) with the model of this identity:
    (errors, results), the results only if no item of the part is invalid. Run by the worker, or by one of its
    helpers (service.helpers), which declines a part it cannot judge with that model."""
    state = rt.models.state_for(model)
    if state is None:
        raise Declined(f"model {model[0]} is not loaded here")
    submissions, errors = validated(items, rt.submission_fields, offset)
    if errors:
        return errors, []
    assessments = intake.preview(state, submissions, [rt.guard.rules(s) for s in submissions], explain=explain)
    return [], results_of(assessments, explain)


@bp.post("/v1/score")
@require("site")  # any token: up to 1,000 comments a call is too much CPU to offer anonymously
def score_comments():
    """Answer the decision each comment would get, in order, with reasons and features.

    `?explain=N` sets how many n-grams each result's `features` lists (0 to
    MAX_FEATURES, default FEATURES_SHOWN); 0 skips the explanations, which
    are a third of the scoring. A large batch is shared with the worker's
    idle helper processes (service.helpers), part by part.
    """
    rt = runtime()
    explain = int_param(request.args.get("explain"), "explain", intake.FEATURES_SHOWN, 0, MAX_FEATURES)
    items = batch_items(read_json_object())
    while True:
        model = rt.models.state.active
        try:
            parts = rt.helpers.split(score_part, items, explain, model.identity)
            break
        except Declined:  # the worker switched models during the call (a promotion): judge it with the new one
            continue
    errors = [error for part_errors, _ in parts for error in part_errors]
    if errors:
        raise ValidationError(errors)
    return {"model_version": model.version, "results": [result for _, results in parts for result in results]}


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
