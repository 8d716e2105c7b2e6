from __future__ import annotations

from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "diagnostics"
    verbose_name = "Diagnostics"

    def ready(self) -> None:
        # Targets and rules keep a revision history (a rule with its ordered
        # fixes). The admin registers them too when it loads first; either way once.
        import reversion
        from django.db.models.signals import post_delete, post_save

        from diagnostics.models import Rule, RuleFix, Target, forget_verdict_rules
        from helpcenter.models import Article, Fix

        # The verdict carries fix titles and links (by article slug) beside the rules.
        for sender in (Rule, RuleFix, Fix, Article):
            post_save.connect(forget_verdict_rules, sender=sender, dispatch_uid=f"rules-{sender}")
            post_delete.connect(forget_verdict_rules, sender=sender, dispatch_uid=f"rules-{sender}")

        for model in (Target, RuleFix):
            if not reversion.is_registered(model):
                reversion.register(model)
        if not reversion.is_registered(Rule):
            reversion.register(Rule, follow=("rule_fixes",))
