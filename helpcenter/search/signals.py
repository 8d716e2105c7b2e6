"""Keeping the index current: save/delete signals and the tables migrations cannot make."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_migrate, post_save, pre_migrate

from helpcenter.models import Article, FaqEntry, Fix
from helpcenter.search.backends import backend_for
from helpcenter.search.documents import article_document, fix_document
from helpcenter.search.sqlite import FTS_TABLE, TERM_TABLE


def _article_saved(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    backend_for().store(article_document(instance))


def _fix_saved(sender: type[Fix], instance: Fix, **kwargs: Any) -> None:
    backend_for().store(fix_document(instance))


def _faq_changed(sender: type[FaqEntry], instance: FaqEntry, **kwargs: Any) -> None:
    article = Article.objects.filter(pk=instance.article_id).first()
    if article is not None:  # None while the article itself is being deleted
        backend_for().store(article_document(article))


def _article_deleted(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    backend_for().delete(article_id=instance.pk)


def _fix_deleted(sender: type[Fix], instance: Fix, **kwargs: Any) -> None:
    backend_for().delete(fix_id=instance.pk)


def enable_trigram(using: str = "default", **kwargs: Any) -> None:
    """pre_migrate: pg_trgm must exist before a table with a gin_trgm_ops index."""
    from django.db import connections

    db = connections[using]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def create_sqlite_tables(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: the FTS5 table is no model, so migrations (or --nomigrations) skip it."""
    from django.db import connections

    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "article_id UNINDEXED, fix_id UNINDEXED, title, summary, body, "
            # porter: English stems, as PostgreSQL's "english" configuration;
            # prefix indexes keep half-typed words ("exte*") cheap.
            "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TERM_TABLE} (word TEXT PRIMARY KEY) WITHOUT ROWID"
        )
        # Spelling candidates by second letter too (a typo in the first one).
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TERM_TABLE}_tail ON {TERM_TABLE} (substr(word, 2))"
        )


def connect_signals(sender: Any) -> None:
    """Called from HelpCenterConfig.ready()."""
    post_save.connect(_article_saved, sender=Article, dispatch_uid="search_article_saved")
    post_save.connect(_fix_saved, sender=Fix, dispatch_uid="search_fix_saved")
    post_save.connect(_faq_changed, sender=FaqEntry, dispatch_uid="search_faq_saved")
    post_delete.connect(_faq_changed, sender=FaqEntry, dispatch_uid="search_faq_deleted")
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid="search_article_deleted")
    post_delete.connect(_fix_deleted, sender=Fix, dispatch_uid="search_fix_deleted")
    pre_migrate.connect(enable_trigram, sender=sender, dispatch_uid="search_pg_trgm")
    post_migrate.connect(create_sqlite_tables, sender=sender, dispatch_uid="search_sqlite_fts")
