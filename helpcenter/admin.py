from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from helpcenter import admin_views, editing
from helpcenter.admin_forms import ArticleAdminForm, FaqAdminForm, FixAdminForm, ThrottledLoginForm
from helpcenter.history_admin import HistoryAdminMixin
from helpcenter.models import (
    Article,
    Category,
    FaqEntry,
    FeedbackSummary,
    Fix,
    FixFeedback,
    FixVotes,
    Service,
    SlugRedirect,
    SynonymSet,
)

# Five wrong passwords for one username from one client, then a 15-minute wait.
admin.site.login_form = ThrottledLoginForm


def _with_site_name(text: str) -> str:
    return gettext(text) % {"site": settings.SITE_NAME}


# Editors sign in to the help center, not to "Django administration". Lazy, so each
# request's language applies once there is more than one.
_named = lazy(_with_site_name, str)
admin.site.site_header = _named(gettext_noop("%(site)s: editing"))
admin.site.site_title = _named(gettext_noop("%(site)s editing"))
admin.site.index_title = _("Guides, checks and notices")


def _site_url(article: Article, anchor: str = "") -> str:
    """Where "View on site" goes: the public page, or for a draft its signed preview.

    A draft's public URL is a 404, so the editor is sent where it can be seen.
    """
    if article.is_public:
        url = article.get_absolute_url()
    else:
        url = reverse("draft_preview", kwargs={"token": editing.preview_token(article)})
    return url + anchor


def _fix_site_url(obj: Any) -> str | None:
    if not isinstance(obj, Fix) or obj.pk is None:
        return None
    if obj.article.is_public:
        return obj.get_absolute_url()
    return _site_url(obj.article, f"#fix-{obj.slug}")


class FixInline(admin.StackedInline):
    """Fixes in the order visitors try them: the list is sorted by the order number."""

    model = Fix
    form = FixAdminForm
    extra = 0
    fields = ["order", "title", "slug", "summary", "ask_if_it_worked", "body"]
    prepopulated_fields = {"slug": ("title",)}
    # Each fix also has a page of its own in the admin (FixAdmin), for editing one
    # fix with its own preview and history instead of the whole article's form.
    show_change_link = True

    def get_view_on_site_url(self, obj: Any = None) -> str | None:
        return _fix_site_url(obj)


class FaqInline(admin.StackedInline):
    model = FaqEntry
    form = FaqAdminForm
    extra = 0
    fields = ["order", "question", "answer"]
    show_change_link = True


@admin.register(Fix)
class FixAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """One fix on its own page: its text, its live preview and its own history."""

    form = FixAdminForm
    list_display = ["title", "article", "order"]
    list_filter = ["article"]
    search_fields = ["title", "summary", "article__title"]
    list_select_related = ["article"]
    fields = ["article", "order", "title", "slug", "summary", "ask_if_it_worked", "body"]
    prepopulated_fields = {"slug": ("title",)}
    change_form_template = "admin/helpcenter/one_text_change_form.html"

    def get_view_on_site_url(self, obj: Any = None) -> str | None:
        return _fix_site_url(obj)


@admin.register(FaqEntry)
class FaqEntryAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """One FAQ entry on its own page, with its live preview."""

    form = FaqAdminForm
    list_display = ["question", "article", "order"]
    list_filter = ["article"]
    search_fields = ["question", "answer", "article__title"]
    list_select_related = ["article"]
    fields = ["article", "order", "question", "answer"]
    change_form_template = "admin/helpcenter/one_text_change_form.html"


class OldSlugInline(admin.TabularInline):
    """Old URLs that redirect here: recorded on save, shown so editors know they exist."""

    model = SlugRedirect
    fk_name = "article"
    extra = 0
    fields = ("old_slug", "fix", "created_at")
    readonly_fields = ("old_slug", "fix", "created_at")
    can_delete = True  # an editor may free an old slug on purpose
    verbose_name = _("old URL slug")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    form = ArticleAdminForm
    list_display = ["title", "slug", "category", "service", "status", "published_at", "updated_at"]
    list_filter = ["status", "category", "service"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    inlines = [FixInline, FaqInline, OldSlugInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "short_title",
                    "slug",
                    "category",
                    "service",
                    "summary",
                    "body",
                    "loaded_state",
                ]
            },
        ),
        (
            _("Publishing (a future time publishes it then, by itself)"),
            {"fields": ["status", "published_at", "related"]},
        ),
    ]
    filter_horizontal = ["related"]

    def get_view_on_site_url(self, obj: Any = None) -> str | None:
        return _site_url(obj) if isinstance(obj, Article) and obj.pk is not None else None

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "preview/",
            self.admin_site.admin_view(admin_views.markdown_preview),
            name="helpcenter_article_preview",
        )
        # The whole page for the form as it stands (new article, or one being changed).
        page_preview = [
            path(
                "page-preview/",
                self.admin_site.admin_view(admin_views.article_page_preview),
                name="helpcenter_article_page_preview",
            ),
            path(
                "<path:object_id>/page-preview/",
                self.admin_site.admin_view(admin_views.article_page_preview),
                name="helpcenter_article_page_preview",
            ),
        ]
        # The toolbar's Image and Link buttons (static/admin_editor/editor.js).
        toolbar = [
            path(
                "image-upload/",
                self.admin_site.admin_view(admin_views.image_upload),
                name="helpcenter_image_upload",
            ),
            path(
                "link-search/",
                self.admin_site.admin_view(admin_views.link_search),
                name="helpcenter_link_search",
            ),
        ]
        return [preview, *toolbar, *page_preview, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        article = self.get_object(request, object_id)
        if article is not None:
            token = editing.preview_token(article)
            extra_context = {
                **(extra_context or {}),
                "preview_link": request.build_absolute_uri(
                    reverse("draft_preview", kwargs={"token": token})
                ),
                "preview_link_days": editing.preview_link_days(),
            }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Category)
class CategoryAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["title", "order"]
    prepopulated_fields = {"slug": ("title",)}


@admin.register(Service)
class ServiceAdmin(HistoryAdminMixin, admin.ModelAdmin):
    # Guides and check targets hang off a service: deleting one that has them is
    # refused (PROTECT), so nothing written about it goes with it.
    list_display = ["name", "slug", "order"]
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ["name", "slug"]


@admin.register(SynonymSet)
class SynonymSetAdmin(HistoryAdminMixin, admin.ModelAdmin):
    # Search reads the sets at query time: a change here applies to the next search.
    list_display = ["name", "terms"]
    search_fields = ["name", "terms"]


@admin.register(SlugRedirect)
class SlugRedirectAdmin(admin.ModelAdmin):
    list_display = ["old_slug", "article", "fix", "created_at"]
    search_fields = ["old_slug", "article__slug"]
    list_select_related = ["article", "fix"]


# --- "Did this fix work?" votes -------------------------------------------------


@admin.register(FixFeedback)
class FixFeedbackAdmin(admin.ModelAdmin):
    """Each vote; only the answer, the verdict it came from and when (never who)."""

    list_display = ["fix", "service", "helpful", "verdict_code", "created_at"]
    list_filter = ["helpful", "service", "verdict_code", "fix__article", "created_at"]
    search_fields = ["fix__title", "fix__article__title", "verdict_code"]
    list_select_related = ["fix__article", "service"]
    readonly_fields = ["fix", "service", "helpful", "verdict_code", "created_at"]
    exclude = ["visitor_hash"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # votes come from visitors only


class VotesForServiceFilter(admin.SimpleListFilter):
    """Counts only the votes given about one service (a general guide's fix serves many).

    It narrows the counts, not the list: FixVotesAdmin.get_queryset reads the
    same parameter when it counts, so every fix stays listed with its votes
    for that service.
    """

    title = _("votes about service")
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(service.slug, service.name) for service in Service.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset


@admin.register(FixVotes)
class FixVotesAdmin(admin.ModelAdmin):
    """Per-fix yes / no counts and the share of yes, sortable, one query per page."""

    list_display = ["title", "article", "yes_votes", "no_votes", "helpful_ratio"]
    list_filter = [VotesForServiceFilter, "article"]
    search_fields = ["title", "article__title"]
    list_select_related = ["article"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Fix]:
        counted = Q()
        service = request.GET.get(VotesForServiceFilter.parameter_name)
        if service:
            counted = Q(feedback__service__slug=service)
        return (
            super()
            .get_queryset(request)
            .annotate(
                yes=Count("feedback", filter=counted & Q(feedback__helpful=True)),
                no=Count("feedback", filter=counted & Q(feedback__helpful=False)),
            )
        )

    @admin.display(description=_("Yes"), ordering="yes")
    def yes_votes(self, obj: Any) -> int:
        return int(obj.yes)

    @admin.display(description=_("No"), ordering="no")
    def no_votes(self, obj: Any) -> int:
        return int(obj.no)

    @admin.display(description=_("Worked for"))
    def helpful_ratio(self, obj: Any) -> str:
        votes = FeedbackSummary(yes=int(obj.yes), no=int(obj.no))
        if not votes.total:
            return gettext("none yet")
        return gettext("%(percent)d%%") % {"percent": round(100 * votes.yes / votes.total)}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # fixes are edited on their article
