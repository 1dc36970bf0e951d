"""The objects one app instance shares between requests (kept in app.extensions)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from .config import Settings
from .moderation.guard import Guard
from .moderation.registry import ModelManager
from .storage.queue import ReviewQueue


@dataclass
class Runtime:
    """Settings, the Redis client, the models in force, the submission schema, the review queue, the abuse guard."""

    settings: Settings
    redis: redis.Redis
    models: ModelManager
    submission_fields: tuple
    queue: ReviewQueue
    guard: Guard
