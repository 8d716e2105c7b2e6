from __future__ import annotations

from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "Notices and alerts"

    def ready(self) -> None:
        # Diagnostics announces events through its own signals and never imports us.
        from diagnostics import signals
        from notices import receivers

        signals.state_changed.connect(receivers.on_state_change, dispatch_uid="notices-change")
        signals.crowd_surge.connect(receivers.on_crowd_surge, dispatch_uid="notices-surge")
