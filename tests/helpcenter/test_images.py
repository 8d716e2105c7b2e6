"""Screenshots: upload from the editor's Image button, re-encoding, serving, export and import."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from PIL import Image

from helpcenter import images
from helpcenter.models import Article
from tests.helpcenter.admin_forms import make_editor
from tests.helpcenter.factories import make_article

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/admin/helpcenter/article/image-upload/"
LINK_URL = "/admin/helpcenter/article/link-search/"


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor_client(client: Any) -> Any:
    make_editor()
    client.login(username="editor", password="a-long-test-password")
    return client


def _picture(fmt: str, size: tuple[int, int] = (40, 30), **save: Any) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((20, 90, 200), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def _with_exif(fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Co"  # Make
    exif[0x0132] = "2026:12:01 10:00:00"  # DateTime
    return _picture(fmt, exif=exif.tobytes())


def _upload(client: Any, data: bytes, name: str = "shot.png", alt: str = "The error page") -> Any:
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(UPLOAD_URL, {"image": upload, "alt": alt})


def test_an_upload_is_stored_under_its_hash_and_served_for_a_year(
    editor_client: Any, client: Any, media_root: Path
) -> None:
    response = _upload(editor_client, _picture("PNG"))

    assert response.status_code == 200
    url = response.json()["url"]
    name = url.removeprefix("/media/images/")
    assert images.NAME_RE.fullmatch(name) and name.endswith(".png")
    assert (media_root / "images" / name).is_file()
    served = client.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(served.streaming_content) == (media_root / "images" / name).read_bytes()
    # The same picture again is the same file.
    assert _upload(editor_client, _picture("PNG")).json()["url"] == url


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_metadata_is_dropped_by_re_encoding(editor_client: Any, media_root: Path, fmt: str) -> None:
    original = _with_exif(fmt)
    assert b"Secret Camera Co" in original

    url = _upload(editor_client, original, name=f"photo.{fmt.lower()}").json()["url"]

    stored = (media_root / "images" / url.rsplit("/", 1)[1]).read_bytes()
    assert b"Secret Camera Co" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_a_wide_screenshot_is_scaled_to_the_column(editor_client: Any, media_root: Path) -> None:
    data = _upload(editor_client, _picture("PNG", size=(3200, 400))).json()

    assert (data["width"], data["height"]) == (images.MAX_WIDTH, 200)
    stored = media_root / "images" / data["url"].rsplit("/", 1)[1]
    assert Image.open(stored).size == (images.MAX_WIDTH, 200)


def test_a_gif_is_stored_as_a_png(editor_client: Any, media_root: Path) -> None:
    url = _upload(editor_client, _picture("GIF"), name="a.gif").json()["url"]
    assert url.endswith(".png")


def test_it_refuses_files_that_are_not_images(editor_client: Any, media_root: Path) -> None:
    response = _upload(editor_client, b"<script>alert(1)</script>", name="shot.png")

    assert response.status_code == 400
    assert "not an image we can use" in response.json()["error"]
    assert not (media_root / "images").exists() or not any((media_root / "images").iterdir())


def test_it_refuses_image_types_it_does_not_store(editor_client: Any, media_root: Path) -> None:
    response = _upload(editor_client, _picture("BMP"), name="shot.bmp")

    assert response.status_code == 400
    assert (
        response.json()["error"]
        == "BMP images are not accepted: upload a PNG, JPEG, WebP or GIF file."
    )


def _png_declaring(width: int, height: int) -> bytes:
    """A small valid PNG header that declares a huge image: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("size", [(10_000, 5_000), (100_000, 100_000)])
def test_it_refuses_decompression_bombs_before_decoding(
    editor_client: Any, media_root: Path, size: tuple[int, int]
) -> None:
    data = _png_declaring(*size)
    assert len(data) < 2_000

    response = _upload(editor_client, data)

    assert response.status_code == 400
    assert "million pixels" in response.json()["error"]


def test_it_refuses_files_over_the_size_limit(
    editor_client: Any, media_root: Path, settings: Any
) -> None:
    settings.IMAGE_UPLOAD_MAX_MB = 1
    response = _upload(editor_client, _picture("PNG") + b"\0" * (1024 * 1024))

    assert response.status_code == 400
    assert "the limit is 1 MB" in response.json()["error"]


def test_it_requires_a_description_and_a_file(editor_client: Any, media_root: Path) -> None:
    response = _upload(editor_client, _picture("PNG"), alt="   ")
    assert response.status_code == 400
    assert "Describe the image" in response.json()["error"]
    assert editor_client.post(UPLOAD_URL, {"alt": "x"}).json()["error"] == (
        "Choose an image file to upload."
    )


def test_only_editors_may_upload(client: Any, media_root: Path) -> None:
    response = _upload(client, _picture("PNG"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_unknown_or_malformed_image_names_are_404(client: Any, media_root: Path) -> None:
    assert client.get("/media/images/0123456789abcdef0123456789abcdef.png").status_code == 404
    assert client.get("/media/images/..%2F..%2Fsecret-key").status_code == 404
    assert client.get("/media/images/shot.png").status_code == 404


def test_export_carries_the_images_and_import_brings_them_back(
    editor_client: Any, media_root: Path, tmp_path: Path
) -> None:
    url = _upload(editor_client, _picture("PNG")).json()["url"]
    name = url.rsplit("/", 1)[1]
    article = make_article("with-picture")
    article.body += f"\n\n![The error page]({url})"
    article.save()
    out = tmp_path / "export"

    call_command("export_content", str(out), stdout=io.StringIO())

    assert (out / "images" / name).read_bytes() == (media_root / "images" / name).read_bytes()
    # Another site (an empty media folder) imports the export and shows the picture.
    (media_root / "images" / name).unlink()
    call_command("import_content", str(out), "--overwrite", stdout=io.StringIO())
    assert (media_root / "images" / name).is_file()
    assert f'src="{url}"' in Article.objects.get(slug="with-picture").body_html


def test_import_skips_an_image_whose_bytes_do_not_match_its_name(
    media_root: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    forged = folder / "0123456789abcdef0123456789abcdef.png"
    forged.write_bytes(_picture("PNG"))

    assert images.import_file(forged) is False
    assert images.file_for(forged.name) is None


def test_link_search_finds_articles_and_fixes_by_title_with_their_slug_paths(
    editor_client: Any,
) -> None:
    article = make_article("cookies-guide", status="draft")
    fix = article.fixes.first()
    assert fix is not None

    results = editor_client.get(LINK_URL, {"q": fix.title}).json()["results"]

    assert {
        "kind": "fix",
        "title": fix.title,
        "article": article.title,
        "url": f"/articles/cookies-guide/fix/{fix.slug}/",
        "public": False,
    } in results
    articles = editor_client.get(LINK_URL, {"q": "cookies-guide"}).json()["results"]
    assert articles[0] == {
        "kind": "article",
        "title": article.title,
        "url": "/articles/cookies-guide/",
        "public": False,
    }


def test_a_link_by_slug_keeps_working_after_the_target_is_renamed(client: Any) -> None:
    target = make_article("old-name", status="published")
    fix = target.fixes.first()
    assert fix is not None
    linking = make_article("linking", status="published")
    linking.body += f"\n\n[Try this]({fix.get_absolute_url()})"
    linking.save()

    target.slug = "new-name"
    target.save()
    fix.slug = "renamed-fix"
    fix.save()

    old_link = Article.objects.get(slug="linking").body_html.split('href="')[-1].split('"')[0]
    response = client.get(old_link, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/articles/new-name/fix/renamed-fix/"
