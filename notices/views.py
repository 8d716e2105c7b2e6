"""Sign-up, confirmation and unsubscribe pages: plain forms, no JavaScript needed.

Never cached (they carry CSRF tokens and per-address state). Nothing here
sends mail: the views store rows and queue tasks on commit.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from diagnostics.models import Target
from helpcenter import clients, ratelimit
from helpcenter.staff_views import can_see_content_health
from notices import recovery, tasks
from notices.models import Subscription


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)


def _rate_wait(request: HttpRequest, email: str) -> int | None:
    """Seconds to wait when this visitor or this address asked too often; None if allowed."""
    address = hashlib.sha256(email.lower().encode()).hexdigest()
    try:
        visitor = ratelimit.hit(
            f"notices:visitor:{clients.visitor_hash(request)}",
            settings.NOTICES_RATE_PER_VISITOR,
            3600,
        )
        if visitor is not None:
            return visitor
        # Keyed on a hash: the cache is storage too, and keeps no address.
        return ratelimit.hit(f"notices:address:{address}", settings.NOTICES_RATE_PER_ADDRESS, 86400)
    except Exception:
        # Unlike a page view, a sign-up makes us send mail: refuse rather than run unlimited.
        return 60


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    target = get_object_or_404(
        Target.objects.exclude(kind=Target.Kind.CONTROL), slug=slug, enabled=True
    )
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    context = {"target": target, "form": form, "keep_days": settings.NOTICES_KEEP_DAYS}
    if request.method != "POST" or not form.is_valid():
        return render(
            request, "notices/subscribe.html", context, status=400 if form.errors else 200
        )
    email = form.cleaned_data["email"].strip()
    wait = _rate_wait(request, email)
    if wait is not None:
        context["wait_minutes"] = max(1, wait // 60)
        response = render(request, "notices/subscribe.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    with transaction.atomic():
        subscription, created = Subscription.objects.get_or_create(email=email, target=target)
        if not created and not subscription.is_confirmed:
            # Asked again before confirming: send the confirmation again.
            Subscription.objects.filter(pk=subscription.pk).update(
                confirmation_claimed_at=None, confirmation_sent_at=None
            )
        if not subscription.is_confirmed:
            pk = subscription.pk
            transaction.on_commit(lambda: tasks.send_confirmation.delay(pk))
    # The same page whatever the address's state, so it tells nobody who signed up.
    return render(request, "notices/check_inbox.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (mail scanners open links); POST confirms."""
    subscription = Subscription.objects.select_related("target").filter(token=token).first()
    context: dict[str, Any] = {"subscription": subscription}
    if subscription is None:
        return render(request, "notices/gone.html", status=404)
    if request.method == "POST" and not subscription.is_confirmed:
        now = timezone.now()
        Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
            confirmed_at=now
        )
        subscription.confirmed_at = now
        back = recovery.back_since(subscription.target, subscription.created_at)
        if back is not None:
            # It recovered between the sign-up and this click: the notice goes now.
            pk, change_pk = subscription.pk, back.pk
            transaction.on_commit(lambda: tasks.send_recovery_notice.delay(pk, change_pk))
        context["back"] = back
    return render(request, "notices/confirm.html", context)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST deletes the address.

    No CSRF check: a mail client's one-click POST (RFC 8058) carries no token,
    and the unguessable token in the link is what proves the right to delete.
    """
    subscription = Subscription.objects.select_related("target").filter(token=token).first()
    if request.method == "POST":
        if subscription is not None:
            subscription.delete()
        return render(request, "notices/unsubscribed.html")
    if subscription is None:
        return render(request, "notices/gone.html", status=404)
    return render(request, "notices/unsubscribe.html", {"subscription": subscription})


@require_safe
@never_cache
def subscription_counts(request: HttpRequest) -> HttpResponse:
    """For editors: how many addresses wait per service and target, never which."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not can_see_content_health(request):
        raise PermissionDenied
    unconfirmed = Q(notices_subscriptions__confirmed_at__isnull=True)
    rows = (
        Target.objects.exclude(kind=Target.Kind.CONTROL)
        .select_related("service")
        .annotate(
            waiting=Count("notices_subscriptions", filter=~unconfirmed),
            unconfirmed=Count("notices_subscriptions", filter=unconfirmed),
        )
        .order_by("service__order", "service__name", "order", "name")
    )
    return render(
        request,
        "notices/counts.html",
        {"groups": counts_by_service(rows), "keep_days": settings.NOTICES_KEEP_DAYS},
    )


class ServiceCounts:
    """One service's targets with their counts, and the service's totals."""

    def __init__(self, service: Any) -> None:
        self.service = service  # None: targets every service shares
        self.rows: list[Target] = []

    @property
    def waiting(self) -> int:
        return sum(row.waiting for row in self.rows)  # type: ignore[attr-defined]

    @property
    def unconfirmed(self) -> int:
        return sum(row.unconfirmed for row in self.rows)  # type: ignore[attr-defined]


def counts_by_service(rows: Any) -> list[ServiceCounts]:
    """Annotated targets (ordered by service) grouped under their service, shared ones last."""
    groups: dict[int | None, ServiceCounts] = {}
    for row in rows:
        groups.setdefault(row.service_id, ServiceCounts(row.service)).rows.append(row)
    shared = groups.pop(None, None)
    return [*groups.values(), *([shared] if shared else [])]
