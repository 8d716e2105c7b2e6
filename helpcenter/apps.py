from __future__ import annotations

from django.apps import AppConfig


class HelpCenterConfig(AppConfig):
    name = "helpcenter"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        # Imported here: search imports the models, which need the app registry.
        from helpcenter import search

        search.connect_signals(self)

        from helpcenter import history

        history.register_models()
