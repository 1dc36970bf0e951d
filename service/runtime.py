"""The objects one app instance shares between requests (kept in app.extensions)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from .config import Settings
from .moderation.registry import ModelManager
from .storage.queue import ReviewQueue


@dataclass
class Runtime:
    """Settings, the Redis client, the models in force, the submission schema and the review queue."""

    settings: Settings
    redis: redis.Redis
    models: ModelManager
    submission_fields: tuple
    queue: ReviewQueue
