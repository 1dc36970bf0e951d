"""The Flask app: `create_app()` builds everything (gunicorn loads `service.app:create_app()`)."""

from __future__ import annotations

import json
import logging

from flask import Flask

from .api import (
    admin,
    auth,
    bodylimit,
    comments,
    health,
    i18n,
    model_info,
    openapi,
    problems,
    prometheus,
    requestlog,
    review,
    score,
    security,
    web,
)
from .api.fastjson import OrjsonProvider
from .api.schemas import format_characters, submission_fields
from .background import Background
from .config import Settings
from .logs import configure_logging
from .metrics import LiveCollector, Metrics
from .moderation import intake
from .moderation.guard import Guard
from .moderation.model_manager import ModelManager
from .runtime import Runtime
from .storage.client import connect
from .storage.queue import ReviewQueue


def create_app(test_config: dict | Settings | None = None) -> Flask:
    """Build the app: settings, model (verified), Redis client, blueprints and error handlers.

    `test_config` is either a Settings object or a dict of Settings fields
    overriding what the environment says.
    """
    if isinstance(test_config, Settings):
        settings = test_config
    else:
        settings = Settings.from_env(**(test_config or {}))
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    client = connect(settings.redis_url, timeout=settings.redis_timeout)
    intake.warm_up()
    format_characters()  # the field checks' table of invisible characters, built before gunicorn forks
    models = ModelManager(client, model_dir=settings.model_dir, models_root=settings.models_root,
                          approve_below=settings.approve_below, reject_at=settings.reject_at,
                          approve_unfamiliar=settings.approve_unfamiliar, trusted_domains=settings.trusted_domains,
                          poll_seconds=settings.model_poll_seconds,
                          redis_url=settings.redis_url)
    app.extensions["moderation"] = Runtime(
        settings=settings,
        redis=client,
        models=models,
        submission_fields=submission_fields(check_dns=settings.email_check_dns),
        queue=ReviewQueue(client, lease_seconds=settings.lease_seconds,
                          expire_ms=settings.expire_ms),
        guard=Guard(client, settings),
    )
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=settings.cookie_secure, SESSION_COOKIE_NAME="moderation_session")
    app.session_interface = auth.SharedKeySessionInterface(settings.secret_key)

    problems.register(app)
    requestlog.register(app)
    bodylimit.register(app, settings.max_body_bytes)
    security.register(app)
    app.register_blueprint(comments.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(score.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(model_info.bp)
    app.register_blueprint(admin.bp)
    i18n.init_app(app)
    app.register_blueprint(web.bp)
    app.register_blueprint(openapi.bp)
    app.extensions["moderation.metrics"] = Metrics()
    app.extensions["moderation"].helpers.record = app.extensions["moderation.metrics"].helper_event
    app.extensions["moderation.live_metrics"] = LiveCollector(app.extensions["moderation"])
    prometheus.register(app)
    app.register_blueprint(prometheus.bp)
    background = Background(app.extensions["moderation"], app.extensions["moderation.metrics"])
    app.extensions["moderation.background"] = background
    app.before_request(background.ensure_started)
    logging.getLogger("service").info("started with model %s and settings %s", models.state.active.version,
                                      json.dumps(settings.masked()))
    return app
