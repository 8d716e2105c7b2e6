"""Services a query names ("discord", "is discord down"), for the card above the hits.

Services are few and are not search documents (their pages live in
diagnostics, which this app never imports), so they are matched here, in
Python, the same way on every database backend: a service matches when each
word of its name, or of its slug, was typed, or its name was typed as one word
or split in two ("mailhub", "mail hub"). Relevance of the hits is untouched.
"""

from __future__ import annotations

from itertools import pairwise

from helpcenter.models import Service
from helpcenter.search.query import query_words


def services_named(words: list[str]) -> list[Service]:
    if not words:
        return []
    typed = set(words) | {a + b for a, b in pairwise(words)}
    found = []
    for service in Service.objects.all():
        name = query_words(service.name)
        slug = [part for part in service.slug.split("-") if part]
        if (name and set(name) <= typed) or "".join(name) in typed or (slug and set(slug) <= typed):
            found.append(service)
    return found
