"""Everything `make run` needs before serving: safe to run again, loses nothing."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from helpcenter import share_images
from helpcenter.search import rebuild_if_outdated


class Command(BaseCommand):
    help = "Migrate, load the starter content and targets, and make sure an admin exists."

    def handle(self, *args: Any, **options: Any) -> None:
        # The cache table first: migrating retires cached pages (pagecache), and
        # with the database cache that needs the table to exist.
        call_command("createcachetable", verbosity=0)
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if "import_content" in get_commands():
            call_command("import_content")
        call_command("seed_synonyms")
        reindexed = rebuild_if_outdated()
        if reindexed is not None:
            self.stdout.write(f"Search index rebuilt in the current format ({reindexed} pages).")
        drawn = share_images.ensure_all()
        if drawn:
            self.stdout.write(f"Drew {drawn} share images.")
        # By name: the knowledge base never imports the diagnostics app.
        # Rules point at fixes, so they come after the content.
        call_command("seed_targets")
        call_command("seed_rules")
        self._ensure_admin()

    def _ensure_admin(self) -> None:
        User = get_user_model()
        # Blank counts as unset: compose passes .env's empty values through.
        username = os.environ.get("ADMIN_USERNAME") or "admin"
        credentials = Path(settings.DATA_DIR) / "admin-credentials.txt"
        if User.objects.filter(username=username).exists():
            where = f" (password in {credentials})" if credentials.exists() else ""
            self.stdout.write(f"Admin login: {username}{where}")
            return
        given = os.environ.get("ADMIN_PASSWORD", "")
        password = given or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if given:
            # The operator's own secret never goes into a log.
            self.stdout.write(
                self.style.SUCCESS(f"Created admin login: {username} (password: ADMIN_PASSWORD)")
            )
            return
        credentials.write_text(f"username: {username}\npassword: {password}\n")
        credentials.chmod(0o600)
        # Printed this once: later starts only say where the file is.
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin login: {username} / {password} (saved in {credentials})"
            )
        )
