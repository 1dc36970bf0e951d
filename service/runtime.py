"""The objects one app instance shares between requests (kept in app.extensions)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from .config import Settings
from .moderation.model import LoadedModel
from .moderation.policy import Thresholds
from .storage.queue import ReviewQueue


@dataclass
class Runtime:
    """Settings, the Redis client, the loaded model and the thresholds in force."""

    settings: Settings
    redis: redis.Redis
    model: LoadedModel
    thresholds: Thresholds
    submission_fields: tuple
    queue: ReviewQueue
