"""File names built from data: one safe stem per village, confined to its output folder.

A village id (and, later, its name) comes from the district's data and may hold anything: ``../..``,
an absolute path, ``C:\\x``, characters Windows or an Android phone refuse (``\\ / : * ? " < > |``,
control characters), or hundreds of Chinese characters. :func:`file_stem` turns it into a stem that is
a plain file name on every system the files travel to; :func:`path_in` joins it to its folder and
refuses a result outside that folder; :func:`check_unique_stems` refuses a run in which two villages
would get the same file (the second would silently overwrite the first).

Ordinary ids keep their name: ``110117001001`` -> ``110117001001``.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from layers.privacy import mask_ids_in_text
from spatial.errors import LayerError, OutputError

__all__ = ["MAX_STEM_BYTES", "NAME_IN_FILE_NAMES", "file_stem", "path_in", "check_unique_stems"]

#: Longest stem, in UTF-8 bytes (room for a suffix and a temporary name within the usual 255-byte limit).
MAX_STEM_BYTES: int = 120

#: Whether file names carry the village name after the id (``<village_id>_<村名>``, names people read).
#: Callers always pass the name; this switch alone decides whether it is used.
NAME_IN_FILE_NAMES: bool = True

# one run of: path separators, characters Windows / Android (FAT, exFAT) refuse, control and bidi-control
# characters, whitespace, two or more dots
_UNSAFE = re.compile(r'(?:[\\/:*?"<>|\x00-\x1f\x7f-\x9f\s\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]|\.{2,})+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
_FALLBACK = "village"


def _clean(text: str) -> str:
    """Unsafe runs -> ``_``; no leading dot (hidden files) and no trailing dot or space (Windows drops them)."""
    return _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip(" .")


def _truncate(stem: str, whole: str, limit: int) -> str:
    """``stem`` cut to ``limit`` UTF-8 bytes at a character boundary, plus a hash of ``whole``."""
    if len(stem.encode("utf-8")) <= limit:
        return stem
    tag = "_" + hashlib.sha1(whole.encode("utf-8")).hexdigest()[:8]
    cut = stem.encode("utf-8")[:limit - len(tag)].decode("utf-8", errors="ignore").rstrip(" .")
    return cut + tag


def file_stem(village_id, name=None, *, with_name: bool | None = None) -> str:
    """A safe file-name stem for a village: no path separator, no ``..``, nothing Windows or Android refuse.

    Runs of characters that are illegal in file names on Windows or Android (``\\ / : * ? " < > |``),
    control characters, whitespace and two or more dots (``..``) become ``_``; leading and trailing
    dots and spaces are dropped; Windows device names (``CON``, ``NUL``, ``COM1`` ...) get a ``_`` in
    front. A stem longer than :data:`MAX_STEM_BYTES` UTF-8 bytes is cut at a character boundary
    (Chinese stays Chinese) and ends with ``_`` and 8 hex digits of a hash of the full text, so distinct long ids stay distinct.

    Parameters
    ----------
    village_id : object
        The village's id (converted with ``str``).
    name : object, optional
        The village's name, used after the id when ``with_name`` is true.
    with_name : bool, optional
        Whether to add the name (default :data:`NAME_IN_FILE_NAMES`).

    Returns
    -------
    str
        A non-empty stem (``village`` when nothing usable is left).

    Examples
    --------
    >>> file_stem("110117001001"), file_stem("../../etc/x"), file_stem("V:1"), file_stem(r"C:\\x")
    ('110117001001', '_etc_x', 'V_1', 'C_x')
    >>> file_stem("110117001001", "东村", with_name=True), file_stem("110117001001", "东村", with_name=False)
    ('110117001001_东村', '110117001001')
    >>> s = file_stem("村" * 100); len(s.encode("utf-8")) <= MAX_STEM_BYTES, s.startswith("村村")
    (True, True)
    """
    use_name = NAME_IN_FILE_NAMES if with_name is None else with_name
    text = "" if village_id is None else str(village_id)
    if use_name and name is not None and name == name and str(name).strip() and str(name).strip() != text:
        text = f"{text}_{mask_ids_in_text(str(name).strip())}"  # an ID number typed as a name stays masked
    stem = _clean(text) or _FALLBACK
    if _RESERVED.match(stem):
        stem = "_" + stem
    return _truncate(stem, text, MAX_STEM_BYTES)


def path_in(folder: str | os.PathLike, stem: str, suffix: str) -> Path:
    """``folder / (stem + suffix)``, refused unless it resolves to a file directly inside ``folder``.

    Parameters
    ----------
    folder : path-like
        The output folder.
    stem : str
        A stem from :func:`file_stem`.
    suffix : str
        The extension with its dot, e.g. ``".html"``.

    Returns
    -------
    pathlib.Path
        ``folder / (stem + suffix)`` (not resolved).

    Raises
    ------
    OutputError
        When the name is not a plain file name or the path (following links) leaves ``folder``.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> path_in(d, file_stem("../x"), ".html").name
    '_x.html'
    >>> path_in(d, "../x", ".html")
    Traceback (most recent call last):
    ...
    spatial.errors.OutputError: ../x.html: not a plain file name inside the output folder ...
    """
    folder = Path(folder)
    name = f"{stem}{suffix}"
    if (not name or name in (".", "..") or Path(name).name != name or "/" in name or "\\" in name
            or os.path.isabs(name) or len(name.encode("utf-8")) > 240):
        raise OutputError(f"{name}: not a plain file name inside the output folder {folder}; "
                          "use maps.filenames.file_stem")
    path = folder / name
    base = folder.resolve()
    if path.resolve().parent != base:
        raise OutputError(f"{path}: resolves outside the output folder {base} (a link?); "
                          "remove it or choose another --out")
    return path


def check_unique_stems(village_ids: Sequence, names: Sequence | None = None, *,
                       source: str = "villages 图层 village_id 列") -> dict:
    """Each village's file stem, refusing two villages that would write the same file.

    Stems are compared without case and after Unicode normalisation, as Windows, macOS and an Android
    phone's storage compare file names. Call it before writing anything.

    Parameters
    ----------
    village_ids : sequence
        The villages' ids (duplicates of one id are one village).
    names : sequence, optional
        Their names, in the same order (for :data:`NAME_IN_FILE_NAMES`).
    source : str
        Where the ids come from, for the error line (e.g. ``"villages 图层 village_id 列"``).

    Returns
    -------
    dict
        ``village_id`` -> stem.

    Raises
    ------
    LayerError
        One line naming both village ids, the shared file name and ``source``.

    Examples
    --------
    >>> check_unique_stems(["110117001001", "110117001002"])["110117001002"]
    '110117001002'
    >>> check_unique_stems(["V/1", "V:1"])
    Traceback (most recent call last):
    ...
    spatial.errors.LayerError: villages 图层 village_id 列：行政村 'V/1' 与 'V:1' 的文件名相同（V_1）...
    """
    ids = list(village_ids)
    labels = list(names) if names is not None else [None] * len(ids)
    stems: dict = {}
    owner: dict[str, object] = {}
    for vid, name in zip(ids, labels):
        if vid in stems:
            continue
        stem = file_stem(vid, name)
        key = unicodedata.normalize("NFC", stem).casefold()
        if key in owner and owner[key] != vid:
            raise LayerError(
                f"{source}：行政村 {str(owner[key])!r} 与 {str(vid)!r} 的文件名相同（{stem}），"
                f"会互相覆盖；请改用不会冲突的村代码 (village ids {str(owner[key])!r} and {str(vid)!r} "
                f"give the same file name {stem!r}; make them distinct)")
        owner[key] = vid
        stems[vid] = stem
    return stems
