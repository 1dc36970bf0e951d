"""The admins' use cases: models (promote, roll back, shadow), labels, webhooks."""

from __future__ import annotations

from pathlib import Path

from ..storage import keys, model_registry, webhooks
from ..storage import labels as label_store
from . import promotion
from .shadow import shadow_report


class Administration:
    """Model lifecycle, label export and webhook endpoints, over one Redis client."""

    def __init__(self, client, models_root: Path, label_archive: label_store.LabelArchive):
        self.client = client
        self.models_root = Path(models_root)
        self.label_archive = label_archive

    def promote(self, version: str, actor: str) -> dict:
        """Make a model of the models root the active one on every instance (ModelError if refused)."""
        return promotion.promote(self.client, self.models_root / version, actor, self.models_root)

    def rollback(self, actor: str) -> dict:
        """Make the previously active model active again (ModelError if there is none)."""
        return promotion.rollback(self.client, actor)

    def set_shadow(self, version: str, actor: str) -> dict:
        """Have every instance also score with a model of the models root (ModelError if refused)."""
        return promotion.set_shadow(self.client, self.models_root / version, actor, self.models_root)

    def clear_shadow(self) -> None:
        """Stop shadow scoring."""
        promotion.clear_shadow(self.client)

    def shadow_report(self, version: str | None) -> dict | None:
        """The shadow report of a version (default: the current shadow model), or None when there is none."""
        version = version or model_registry.shadow_version(self.client)
        return shadow_report(self.client, version) if version else None

    def model_history(self) -> dict:
        """Who made which model active or shadow and when, the earlier active ones, and every retraining run."""
        return {"active": promotion.active_record(self.client, self.models_root),
                "shadow": model_registry.read(self.client, keys.shadow_model()),
                "previous": model_registry.history(self.client), "retraining": model_registry.retrain_runs(self.client)}

    def export_labels(self, since_ms: int | None):
        """The moderators' decisions as JSONL lines, one per comment, in the order of their newest decision."""
        return label_store.export_lines(self.client, self.label_archive, since_ms)

    def add_webhook(self, url: str) -> tuple[dict, str]:
        """Register an endpoint; return it (public form) and its secret."""
        endpoint, secret = webhooks.add_endpoint(self.client, url)
        return webhooks.public(endpoint), secret

    def webhooks(self) -> dict:
        """Endpoints (without secrets), deliveries waiting and given up, and the latest attempts."""
        return {"endpoints": [webhooks.public(e) for e in webhooks.endpoints(self.client)],
                "pending_deliveries": self.client.zcard(keys.webhook_deliveries()),
                "given_up": self.client.llen(keys.webhook_dead()),
                "log": webhooks.delivery_log(self.client, 50)}

    def remove_webhook(self, endpoint_id: str) -> None:
        """Stop sending events to an endpoint."""
        webhooks.remove_endpoint(self.client, endpoint_id)

    def add_webhook_secret(self, endpoint_id: str) -> tuple[dict, str]:
        """Add a signing secret to an endpoint; return it (public form) and the secret."""
        endpoint, secret = webhooks.add_secret(self.client, endpoint_id)
        return webhooks.public(endpoint), secret

    def remove_webhook_secret(self, endpoint_id: str, secret_id: str) -> dict:
        """Remove a secret (ValueError for the last one); return the endpoint's public form."""
        return webhooks.public(webhooks.remove_secret(self.client, endpoint_id, secret_id))
