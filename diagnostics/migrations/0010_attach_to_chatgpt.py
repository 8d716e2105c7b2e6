"""Attach what exists today to a ChatGPT service: until now it was the only one.

A fresh install has nothing to attach and creates no service here: its starter
content (helpcenter/content/services.yml) brings ChatGPT and the others. An
install with targets, runs or guides gets the ChatGPT service with the same
values as that file, and every non-control target, run, guide and fix vote is
attached to it. Verdict rules stay for every service (empty), which is what
they meant when there was one.

The starter-data policy (helpcenter.starter) then needs to know that these
attachments were made by setup, not by an editor, or the next import would
"keep an edit" nobody made: so the digests the importer and seed_targets
compare with are recorded too, computed the way helpcenter.starter.digest does.
"""

from __future__ import annotations

import hashlib
import json

from django.db import migrations

# The same values as the chatgpt entry of helpcenter/content/services.yml
# (tests/helpcenter/test_services.py holds them equal).
CHATGPT = {
    "name": "ChatGPT",
    "summary": "OpenAI's chat assistant, used on the web, in its apps and through its API.",
    "website_url": "https://chatgpt.com/",
    "support_url": "https://help.openai.com/",
    "order": 1,
}


def _digest(values):
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def attach(apps, schema_editor):
    Service = apps.get_model("helpcenter", "Service")
    Article = apps.get_model("helpcenter", "Article")
    FixFeedback = apps.get_model("helpcenter", "FixFeedback")
    SeededRow = apps.get_model("helpcenter", "SeededRow")
    Target = apps.get_model("diagnostics", "Target")
    CheckRun = apps.get_model("diagnostics", "CheckRun")
    targets = Target.objects.filter(service__isnull=True).exclude(kind="control")
    articles = Article.objects.filter(service__isnull=True)
    if not (targets.exists() or articles.exists() or CheckRun.objects.exists()):
        return  # a fresh install: the starter content brings the services
    service = Service.objects.filter(slug="chatgpt").first()
    if service is None:
        service = Service.objects.create(slug="chatgpt", **CHATGPT)
        _seeded(SeededRow, "service", "chatgpt", CHATGPT)
    attached = {"service": "chatgpt"}
    for slug in targets.values_list("slug", flat=True):
        _seeded(SeededRow, "target-service", slug, attached)
    for slug in articles.values_list("slug", flat=True):
        _seeded(SeededRow, "article-service", slug, attached)
    targets.update(service=service)
    articles.update(service=service)
    CheckRun.objects.filter(service__isnull=True).update(service=service)
    FixFeedback.objects.filter(service__isnull=True).update(service=service)


def _seeded(SeededRow, kind, key, values):
    SeededRow.objects.update_or_create(kind=kind, key=key, defaults={"digest": _digest(values)})


class Migration(migrations.Migration):
    dependencies = [
        ("diagnostics", "0009_services"),
        ("helpcenter", "0009_services"),
    ]

    operations = [migrations.RunPython(attach, migrations.RunPython.noop)]
