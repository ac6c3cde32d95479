"""Make rendered HTML self-contained: vendored JS/CSS inlined in place of CDN links, atomic writes.

The JavaScript and CSS that maps need (Leaflet, leaflet.fullscreen, leaflet-measure and landguard's
own map code) ship in ``maps/assets/`` with their licences. :func:`inline_assets` replaces every
``<script src=...>`` and ``<link rel="stylesheet" href=...>`` that folium writes with the vendored
file's content (images referenced from the CSS become ``data:`` URIs), and refuses HTML that would
still fetch a script or stylesheet from anywhere: an inspector's map must open with no network.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from pathlib import Path

from spatial.atomic import atomic_path
from spatial.errors import OutputError

__all__ = ["ASSETS_DIR", "VENDORED", "asset_text", "inline_assets", "inline_script", "inline_style",
           "script_json", "write_text_atomic"]

#: Folder of the vendored assets (inside the installed package).
ASSETS_DIR: Path = Path(__file__).resolve().parent / "assets"

#: Basename of a CDN URL folium may write -> vendored file (relative to :data:`ASSETS_DIR`).
VENDORED: dict[str, str] = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
    "Control.FullScreen.min.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "leaflet-measure.min.js": "leaflet-measure/leaflet-measure.cn.js",
    "leaflet-measure.js": "leaflet-measure/leaflet-measure.cn.js",
    "leaflet-measure.min.css": "leaflet-measure/leaflet-measure.css",
    "leaflet-measure.css": "leaflet-measure/leaflet-measure.css",
}

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".woff2": "font/woff2", ".woff": "font/woff"}
_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["'][^>]*>\s*</script\s*>""", re.I)
_LINK = re.compile(r"""<link\b[^>]*>""", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.I)
_REL_STYLESHEET = re.compile(r"""\brel\s*=\s*["']?stylesheet""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
_REMOTE = re.compile(r"""^(?:[a-z][a-z0-9+.-]*:)?//""", re.I)


@functools.lru_cache(maxsize=None)
def asset_text(relpath: str) -> str:
    """Text of a vendored asset; a stylesheet's relative ``url(...)`` images become ``data:`` URIs.

    Parameters
    ----------
    relpath : str
        Path under :data:`ASSETS_DIR`, e.g. ``"leaflet/leaflet.css"``.

    Returns
    -------
    str

    Examples
    --------
    >>> "data:image/png;base64," in asset_text("leaflet/leaflet.css")
    True
    """
    path = ASSETS_DIR / relpath
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: vendored map asset missing or unreadable ({exc.strerror}); "
                          "reinstall landguard") from None
    if path.suffix == ".css":
        text = _CSS_URL.sub(lambda m: _data_uri(path.parent, m), text)
    return text


def _data_uri(base: Path, match: re.Match) -> str:
    ref = match.group(2).strip()
    if ref.startswith(("data:", "#")):
        return match.group(0)
    if _REMOTE.match(ref):
        raise OutputError(f"{base}: stylesheet refers to remote {ref!r}; vendor it under maps/assets")
    target = (base / ref.split("?")[0].split("#")[0]).resolve()
    mime = _MIME.get(target.suffix.lower())
    if mime is None or not target.is_file():
        raise OutputError(f"{base}: stylesheet image {ref!r} is not a vendored file under {base}")
    return f'url("data:{mime};base64,{base64.b64encode(target.read_bytes()).decode("ascii")}")'


def inline_script(js: str) -> str:
    """A ``<script>`` element holding ``js``, safe against an early ``</script>`` in the code.

    Examples
    --------
    >>> inline_script('var s = "</script>";')
    '<script>var s = "<\\\\/script>";</script>'
    """
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.I) + "</script>"


def script_json(obj) -> str:
    """Compact JSON (UTF-8 text, not ASCII-escaped) that is safe to place inside a ``<script>`` element.

    ``</`` becomes ``<\\/`` and ``<!--`` becomes ``<\\u0021--``, both still the same JSON value, so no
    attribute text can end the script early.

    Examples
    --------
    >>> script_json({"p": "</script>村"})
    '{"p":"<\\\\/script>村"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def inline_style(css: str) -> str:
    """A ``<style>`` element holding ``css``.

    Examples
    --------
    >>> inline_style("p{color:red}")
    '<style>p{color:red}</style>'
    """
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.I) + "</style>"


def _vendored_for(url: str) -> str | None:
    base = url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    return VENDORED.get(base)


def inline_assets(html: str, *, source: str = "map") -> str:
    """Replace linked scripts and stylesheets by the vendored files' content.

    Parameters
    ----------
    html : str
        A rendered page (e.g. ``folium.Map.get_root().render()``).
    source : str
        What the page is, for error messages.

    Returns
    -------
    str
        The page with every ``<script src>`` / stylesheet ``<link>`` inlined.

    Raises
    ------
    OutputError
        When a script or stylesheet is linked that is not vendored in ``maps/assets``.

    Examples
    --------
    >>> page = '<head><script src="https://cdn.example/leaflet@1.9.3/dist/leaflet.js"></script></head>'
    >>> out = inline_assets(page)
    >>> "http" in out.split("<script>", 1)[0], "Leaflet" in out
    (False, True)
    """
    def script(m: re.Match) -> str:
        rel = _vendored_for(m.group(1))
        if rel is None:
            raise OutputError(f"{source}: script {m.group(1)!r} is not vendored in {ASSETS_DIR}; "
                              "add it there (and to maps.offline.VENDORED) or do not use it")
        return inline_script(asset_text(rel))

    def link(m: re.Match) -> str:
        tag = m.group(0)
        if not _REL_STYLESHEET.search(tag):
            return tag
        href = _HREF.search(tag)
        if href is None:
            return tag
        rel = _vendored_for(href.group(1))
        if rel is None:
            raise OutputError(f"{source}: stylesheet {href.group(1)!r} is not vendored in {ASSETS_DIR}; "
                              "add it there (and to maps.offline.VENDORED) or do not use it")
        return inline_style(asset_text(rel))

    return _LINK.sub(link, _SCRIPT_SRC.sub(script, html))


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a temporary file in the same folder, then rename.

    A reader never sees a half-written page, and a failure leaves any previous file in place.

    Parameters
    ----------
    path : str or path-like
        Destination; its folder is created when missing.
    text : str

    Returns
    -------
    pathlib.Path
        The destination path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_text_atomic(d / "a.html", "<p>好</p>").read_text(encoding="utf-8")
    '<p>好</p>'
    """
    out = Path(path)
    with atomic_path(out) as tmp:  # private temporary per process; a killed run's is removed later
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
    return out
