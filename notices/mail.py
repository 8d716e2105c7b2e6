"""The two mails this site sends: the confirmation and the one recovery notice.

Each has a plain-text and an HTML part rendered from templates, absolute links
from SITE_URL, and the List-Unsubscribe headers mail clients turn into a
one-click button (RFC 8058: the client POSTs to the link; no page opens).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from diagnostics.models import StateChange
from helpcenter import seo
from notices.models import Subscription


def confirm_url(subscription: Subscription) -> str:
    return seo.absolute(reverse("notices:confirm", kwargs={"token": subscription.token}))


def unsubscribe_url(subscription: Subscription) -> str:
    return seo.absolute(reverse("notices:unsubscribe", kwargs={"token": subscription.token}))


def _message(
    subscription: Subscription, subject: str, template: str, context: dict[str, object]
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(subscription)
    context = {
        **context,
        "target": subscription.target,
        "site_name": settings.SITE_NAME,
        "unsubscribe_url": unsubscribe,
        "status_url": seo.absolute(reverse("status_target", args=[subscription.target.slug])),
        "keep_days": settings.NOTICES_KEEP_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notices/email/{template}.txt", context),
        to=[subscription.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # Not a bulk campaign, but auto-responders should still stay quiet.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string(f"notices/email/{template}.html", context), "text/html"
    )
    return message


def confirmation(subscription: Subscription) -> EmailMultiAlternatives:
    return _message(
        subscription,
        gettext("Confirm: email me when %(name)s is back") % {"name": subscription.target.name},
        "confirm",
        {"confirm_url": confirm_url(subscription)},
    )


def recovery_notice(
    subscription: Subscription, change: StateChange | None
) -> EmailMultiAlternatives:
    return _message(
        subscription,
        gettext("%(name)s is back up") % {"name": subscription.target.name},
        "notice",
        {"change": change},
    )
