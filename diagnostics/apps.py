from __future__ import annotations

from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "diagnostics"
    verbose_name = "Diagnostics"

    def ready(self) -> None:
        # Targets and rules keep a revision history (a rule with its ordered
        # fixes). The admin registers them too when it loads first; either way once.
        import reversion

        from diagnostics.models import Rule, RuleFix, Target

        for model in (Target, RuleFix):
            if not reversion.is_registered(model):
                reversion.register(model)
        if not reversion.is_registered(Rule):
            reversion.register(Rule, follow=("rule_fixes",))
