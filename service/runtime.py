"""The objects one app instance shares between requests (kept in app.extensions)."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from .config import Settings
from .errors import AuthenticationError
from .helpers import Helpers
from .moderation import intake
from .moderation.accounts import Accounts
from .moderation.administration import Administration
from .moderation.explain import weighty_words_many
from .moderation.guard import Guard
from .moderation.model_manager import ModelManager
from .moderation.reviewing import Reviewing
from .storage.client import ping
from .storage.labels import LabelArchive
from .storage.queue import ReviewQueue
from .storage.tokens import StillValid


@dataclass
class Runtime:
    """Settings, the models in force, the submission schema, the abuse guard, and the use cases views call.

    Views call the use cases (`accounts`, `reviewing`, `administration`, `submit`, `check_storage`); the
    Redis client and the queue are for those and for the background work, never for a view. `helpers` are the
    process's helpers for large batches.
    """

    settings: Settings
    redis: redis.Redis
    models: ModelManager
    submission_fields: tuple
    queue: ReviewQueue
    guard: Guard
    accounts: Accounts = field(init=False)
    reviewing: Reviewing = field(init=False)
    administration: Administration = field(init=False)
    helpers: Helpers = field(init=False)

    def __post_init__(self):
        self.helpers = Helpers(self.settings.score_helpers, context=self)  # forked by gunicorn_conf.post_fork
        self.accounts = Accounts(self.redis)
        self.reviewing = Reviewing(self.redis, self.queue)
        self.administration = Administration(self.redis, self.settings.models_root,
                                             LabelArchive(self.settings.labels_dir))

    def submit(self, submission: dict, *, ip: str | None, site: str | None,
               site_check: StillValid | None = None) -> dict:
        """Admit, score, decide and store a validated submission with the models in force; return the record.

        `site_check` is the site key's check (Accounts.verify_deferred), confirmed by the admission's round
        trip: a refused key raises AuthenticationError and is forgotten by this process.
        """
        try:
            return intake.submit(self.guard, self.models.state, submission, ip=ip, site=site,
                                 expire_ms=self.settings.expire_ms, site_check=site_check)
        except AuthenticationError:
            if site_check:
                self.accounts.forget(site_check)
            raise

    def weighty_words(self, texts: list[str]) -> list[list[dict]]:
        """For each text, the words that moved the active model's score most (moderation.explain), for a person."""
        return weighty_words_many(self.models.state.active, texts)

    def check_storage(self) -> None:
        """Raise StorageUnavailableError unless Redis answers."""
        ping(self.redis)
