"""/privacy/: what is kept and for how long, from the settings; which sites the browser contacts."""

from __future__ import annotations

from typing import Any

import pytest

from diagnostics.models import Target


@pytest.mark.django_db
def test_it_states_retention_from_the_settings(client: Any, settings: Any) -> None:
    settings.CHECKS_REPORT_DAYS = 5
    settings.CHECKS_SAMPLE_KEEP_DAYS = 9
    settings.CHECKS_ROLLUP_KEEP_DAYS = 401
    response = client.get("/privacy/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<strong data-setting="CHECKS_REPORT_DAYS">5 days</strong>' in html
    assert '<strong data-setting="CHECKS_SAMPLE_KEEP_DAYS">9 days</strong>' in html
    assert '<strong data-setting="CHECKS_ROLLUP_KEEP_DAYS">401 days</strong>' in html
    for words in ("the error code, the Ray ID and the data centre", "salted hash",
                  "never store the address", "Only the text of the search"):  # fmt: skip
        assert words in html


@pytest.mark.django_db
def test_it_lists_the_hosts_the_browser_checks_contact(client: Any) -> None:
    Target.objects.create(name="App", slug="app", url="https://app.example/x", browser_check=True)
    Target.objects.create(
        name="Ctl", slug="ctl", url="https://ctl.example/", browser_url="https://cdn.ctl.example/p",
        browser_check=True, kind=Target.Kind.CONTROL,
    )  # fmt: skip
    Target.objects.create(name="Api", slug="api", url="https://api.example/", browser_check=False)
    Target.objects.create(
        name="Off", slug="off", url="https://off.example/", browser_check=True, enabled=False
    )
    html = client.get("/privacy/").content.decode()
    assert "<code>app.example</code>" in html and "<code>cdn.ctl.example</code>" in html
    assert "api.example" not in html and "off.example" not in html


@pytest.mark.django_db
def test_it_says_when_the_browser_contacts_no_other_site(client: Any) -> None:
    html = client.get("/privacy/").content.decode()
    assert "your browser contacts no other site" in html


@pytest.mark.django_db
def test_it_is_cacheable_and_linked_from_the_footer(client: Any) -> None:
    response = client.get("/privacy/")
    assert "public" in response["Cache-Control"] and not response.cookies
    home = client.get("/").content.decode()
    assert 'href="/privacy/"' in home and 'href="/status/"' in home
