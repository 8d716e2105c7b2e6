from __future__ import annotations

from django.apps import AppConfig


class HelpCenterConfig(AppConfig):
    name = "helpcenter"
    verbose_name = "Knowledge base"
