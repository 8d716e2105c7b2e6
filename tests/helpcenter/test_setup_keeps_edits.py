"""`make run` runs setup every time: an editor's change made in the admin must survive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from helpcenter import history
from helpcenter.models import Article
from tests.helpcenter.admin_forms import as_browser_sends, change_url, form_data, make_editor

pytestmark = pytest.mark.django_db

SLUG = "chatgpt-access-denied-1020"


def _setup(capsys: pytest.CaptureFixture[str]) -> str:
    # Setup's steps print to the process's stdout, as `make run` shows them.
    capsys.readouterr()
    call_command("setup")
    return capsys.readouterr().out


# Setup twice (migrate check, collectstatic, the whole starter content): slow on a busy machine.
@pytest.mark.timeout(300)
def test_an_article_and_fix_edited_in_the_admin_survive_setup(
    client: Any, settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.DATA_DIR = tmp_path  # setup writes the admin's credentials there
    _setup(capsys)
    article = Article.objects.get(slug=SLUG)
    fixes = list(article.fixes.all())
    fix = fixes[1]
    editor = make_editor()
    client.force_login(editor)
    data = form_data(article, body=article.body + "\n\nEditor note about offices.")
    data["fixes-1-body"] = fix.body + "\n\nEditor tip about cookies."
    response = client.post(change_url(article), as_browser_sends(data))
    assert response.status_code == 302, response.content.decode()[:3000]

    output = _setup(capsys)

    assert "Kept your edit of ChatGPT says “Access denied” (error 1020)." in output
    assert f"Kept your edit of fix “{fix.title}” in ChatGPT says" in output
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Editor note about offices." in page
    fix_page = client.get(fix.get_absolute_url()).content.decode()
    assert "Editor tip about cookies." in fix_page
    # History's newest version of both is the editor's: setup wrote none on top.
    for obj in (article, fix):
        top = history.versions_for(obj).first()
        assert top is not None and top.revision.user == editor, obj
    # Only what was edited counts as kept: the other six fixes took nothing and lost nothing.
    assert output.count("Kept your edit of") == 2
