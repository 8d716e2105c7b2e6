"""Pages for the people who write the help center (not for visitors, never cached)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from helpcenter import design_tokens
from helpcenter.content_health import broken_links, top_search_misses, worst_fixes

EDITOR_GROUP = "Editor"


def can_see_content_health(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=EDITOR_GROUP).exists()


@never_cache
@require_safe
def content_health(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not can_see_content_health(request):
        raise PermissionDenied
    links = broken_links()
    context = {
        "misses": top_search_misses(),
        "worst_fixes": worst_fixes(),
        "broken": [link for link in links if not link.redirect],
        "redirecting": [link for link in links if link.redirect],
    }
    return render(request, "helpcenter/content_health.html", context)


# The components /styleguide/ shows, each a template under templates/styleguide/ that
# the page both renders live and prints as source: what you see is what you copy.
STYLEGUIDE_EXAMPLES = (
    ("buttons", "Buttons", "One primary action per group; secondary for the others."),
    ("inputs", "Search field", "A field and its button share one height."),
    ("cards", "Cards", "A bounded group of links or facts, as on the home page."),
    ("callouts", "Callouts", "A note set apart from the text, toned by what it says."),
    ("badges", "Status badges", "A dot and a word: the word carries the meaning."),
    ("tabs", "Tabs", "One tab per browser, pure CSS: works with JavaScript off."),
    ("disclosure", "Disclosure", "Every <details> gets the same arrow."),
)


@never_cache
@require_safe
def styleguide(request: HttpRequest) -> HttpResponse:
    """The design system for the people who build pages: staff only, and unlisted."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (request.user.is_active and request.user.is_staff):
        raise Http404  # visitors need not learn the page exists
    examples = [
        {"slug": slug, "title": title, "note": note, "template": f"styleguide/{slug}.html"}
        for slug, title, note in STYLEGUIDE_EXAMPLES
    ]
    context = {
        "examples": examples,
        "pairs": design_tokens.pair_ratios(),
        "schemes": design_tokens.schemes(),
        "type_scale": TYPE_SCALE,
        "spacing": SPACING,
    }
    return render(request, "helpcenter/styleguide.html", context)


TYPE_SCALE = (
    ("--text-4xl", "36 px", "the home page's heading"),
    ("--text-3xl", "30 px", "page headings (h1)"),
    ("--text-2xl", "24 px", "section headings (h2)"),
    ("--text-xl", "20 px", "sub-headings (h3), panel headings"),
    ("--text-lg", "18 px", "ledes, large inputs"),
    ("--text-base", "17 px", "running text"),
    ("--text-sm", "15 px", "meta lines, breadcrumbs, footer"),
    ("--text-xs", "14 px", "captions and chart labels: the smallest text on any page"),
)
SPACING = (
    "--space-1",
    "--space-2",
    "--space-3",
    "--space-4",
    "--space-5",
    "--space-6",
    "--space-7",
)
