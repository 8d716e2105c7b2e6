from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.template import loader
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The same escapes as Django's json_script: with <, > and & written as \\uXXXX,
# no value can close the script element or open a comment inside it.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def json_ld(data: dict[str, Any]) -> SafeString:
    """Write structured data as <script type="application/ld+json">.

    Django's json_script filter only writes type="application/json", which
    search engines ignore, so this mirrors it with the JSON-LD type.
    """
    payload = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))  # noqa: S308


@register.simple_tag
def template_source(name: str) -> str:
    """A template's own text, for the styleguide to print beside its rendering.

    Returned as a plain string, so the page escapes it like any other value.
    """
    return str(loader.get_template(name).template.source).strip()  # type: ignore[attr-defined]
