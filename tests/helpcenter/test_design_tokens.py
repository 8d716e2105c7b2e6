"""The colour tokens meet WCAG AA in both schemes, and /styleguide/ is for staff only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from helpcenter import design_tokens


def test_every_colour_pair_meets_aa_in_light_and_dark() -> None:
    rows = design_tokens.pair_ratios()
    assert {row.scheme for row in rows} == {"light", "dark"}
    assert len(rows) == 2 * len(design_tokens.PAIRS)
    failing = [row for row in rows if not row.passes]
    assert failing == []


def test_the_dark_scheme_names_its_own_colours() -> None:
    light, dark = design_tokens.schemes()["light"], design_tokens.schemes()["dark"]
    # A token the dark block forgot would silently keep its light value.
    named = ("bg", "fg", "muted", "accent", "accent-fg", "panel", "ok", "warn", "bad", "refused")
    for name in named:
        assert dark[name] != light[name], name


def test_the_contrast_formula_matches_wcags_reference_values() -> None:
    assert design_tokens.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert design_tokens.contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert design_tokens.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.django_db
def test_the_styleguide_sends_visitors_to_the_login(client: Any) -> None:
    response = client.get("/styleguide/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/styleguide/")


@pytest.mark.django_db
def test_the_styleguide_is_not_found_for_a_signed_in_non_staff_user(client: Any) -> None:
    client.force_login(User.objects.create_user("reader", password="x" * 20))
    assert client.get("/styleguide/").status_code == 404


@pytest.mark.django_db
def test_staff_see_every_component_live_with_its_markup(client: Any) -> None:
    client.force_login(User.objects.create_user("staffer", password="x" * 20, is_staff=True))
    response = client.get("/styleguide/")
    html = response.content.decode()
    assert response.status_code == 200
    for slug, title, _note in (
        ("buttons", "Buttons", ""), ("cards", "Cards", ""), ("callouts", "Callouts", ""),
        ("tabs", "Tabs", ""), ("disclosure", "Disclosure", ""), ("badges", "Status badges", ""),
    ):  # fmt: skip
        assert f'<h2 id="{slug}">{title}</h2>' in html
    # Live, then escaped as source.
    assert '<a class="button button-secondary" href="/status/">Service status</a>' in html
    assert "&lt;a class=&quot;button button-secondary&quot;" in html
    assert '<div class="tabbed-set">' in html and "&lt;div class=&quot;tabbed-set&quot;&gt;" in html
    # The measured ratios, from tokens.css.
    assert "--accent-fg</code> #ffffff" in html and ":1 (AA)" in html and "below" not in html
