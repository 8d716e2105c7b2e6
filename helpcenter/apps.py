from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HelpCenterConfig(AppConfig):
    name = "helpcenter"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        # Imported here: search imports the models, which need the app registry.
        from helpcenter import search

        search.connect_signals(self)

        from helpcenter import history

        history.register_models()

        from helpcenter import pagecache

        # Every save or delete that can change a public page retires the cached pages.
        pagecache.connect_signals()

        from helpcenter import share_images

        share_images.connect_signals()
        # The Editor role exists after every migrate (and test database flush).
        post_migrate.connect(_seed_roles, sender=self, dispatch_uid="helpcenter.seed_roles")


def _seed_roles(using: str = "default", **kwargs: Any) -> None:
    from helpcenter import editing

    editing.ensure_editor_group(using=using)
