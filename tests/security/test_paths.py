"""Every output file named from data stays inside its output folder, and two villages never share a file.

``maps`` used to write ``out / f"{village_id}.html"`` as given, so ``../..`` or an absolute ``village_id``
wrote elsewhere, a ``:`` failed late with no ``index.html``, a long Chinese id crashed ``export`` (exit 3)
and ``V/1`` / ``V:1`` exported into one file. Names now come from :func:`maps.filenames.file_stem`.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from landguard.cli.main import cli
from maps.filenames import MAX_STEM_BYTES, check_unique_stems, file_stem, path_in
from spatial.errors import LayerError, OutputError
from tests.badinput.helpers import VILLAGE_A, base_layers, ok, one_error, run_check, write_district

LONG_CHINESE = "北京市平谷区金海湖镇东店村村民委员会" * 8          # 144 characters, 432 bytes in UTF-8
_FORBIDDEN = set('\\/:*?"<>|')


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _district(tmp_path: Path, id_b: str, id_a: str = VILLAGE_A, name: str | None = None) -> Path:
    """The two-village district with village B (which holds the FARM-BUILD finding) renamed ``id_b``
    (and both villages named ``name`` when given: files are ``<village_id>_<村名>``)."""
    layers = base_layers()
    layers["villages"].loc[[0, 1], "village_id"] = [id_a, id_b]
    if name is not None:
        layers["villages"].loc[[0, 1], "name"] = name
    return write_district(tmp_path / "data", layers)


def _maps_and_export(tmp_path: Path, data: Path):
    found = tmp_path / "out" / "findings.gpkg"
    maps, exports = tmp_path / "a" / "b" / "maps", tmp_path / "a" / "b" / "exports"
    r_maps = CliRunner().invoke(cli, ["maps", "--findings", str(found), "--data", str(data), "--out", str(maps), "-q"])
    r_exp = CliRunner().invoke(cli, ["export", "--findings", str(found), "--data", str(data), "--out", str(exports)])
    return maps, exports, r_maps, r_exp


@pytest.mark.parametrize("village_id", ["../../x", "ABS", "C:\\x", "V:1", "..\\..\\x", "CON", LONG_CHINESE],
                         ids=["dotdot", "absolute", "drive", "colon", "backslash-dotdot", "device", "long-chinese"])
def test_every_file_named_from_a_village_id_stays_in_its_folder(tmp_path, village_id):
    if village_id == "ABS":
        village_id = str(tmp_path / "abs" / "x")                        # an absolute path
    data = _district(tmp_path, village_id)
    ok(run_check(data, tmp_path / "out"))
    before = _files(tmp_path)
    maps, exports, r_maps, r_exp = _maps_and_export(tmp_path, data)
    assert r_maps.exit_code == 0, r_maps.output
    assert r_exp.exit_code == 0, r_exp.output

    written = _files(tmp_path) - before
    outside = [p for p in written if p.resolve().parent not in (maps.resolve(), exports.resolve())]
    assert not outside, outside
    names = base_layers()["villages"]["name"].tolist()               # files are <village_id>_<村名>
    stem, stem_a = file_stem(village_id, names[1]), file_stem(VILLAGE_A, names[0])
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES and not (_FORBIDDEN & set(stem)) and ".." not in stem
    assert sorted(p.name for p in maps.glob("*.html")) == sorted([f"{stem_a}.html", f"{stem}.html", "index.html"])
    assert sorted(p.name for p in exports.iterdir()) == [f"{stem}.geojson", f"{stem}.gpkg", f"{stem}.kml"]
    if village_id == LONG_CHINESE:
        assert stem.startswith("北京市平谷区金海湖镇")                 # Chinese kept, cut at a character
    # the index links to every map, and each link opens a file that exists
    index = (maps / "index.html").read_text(encoding="utf-8")
    hrefs = [unquote(h.split('"', 1)[0]) for h in index.split('href="')[1:]]
    hrefs = [h for h in hrefs if not h.startswith("#") and "://" not in h]   # controls and credits are not files
    assert sorted(set(hrefs)) == sorted([f"{stem_a}.html", f"{stem}.html"])   # a map may be linked twice
    assert all((maps / h).is_file() for h in hrefs)


@pytest.mark.parametrize("pair", [("V/1", "V:1"), ("X*1", "X?1"), ("Vab1", "VAB1")], ids=["slash-colon", "star-question", "case"])
def test_two_villages_with_one_file_name_are_refused_before_writing(tmp_path, pair):
    data = _district(tmp_path, pair[1], pair[0], name="东店村")          # one name: only the ids tell them apart
    ok(run_check(data, tmp_path / "out"))
    maps, exports, r_maps, r_exp = _maps_and_export(tmp_path, data)
    for res in (r_maps, r_exp):
        line = one_error(res, repr(pair[0]), repr(pair[1]), "villages", "village_id")
        assert "文件名相同" in line
    assert not list(maps.glob("*.html"))                              # nothing written, not even the index
    assert not exports.exists() or not any(exports.iterdir())


def test_ordinary_ids_keep_their_names():
    for vid in ("110117104201", "V1-2_甲村", "东店村", "a.b"):
        assert file_stem(vid) == vid
    assert file_stem("110117104201", "东店村", with_name=True) == "110117104201_东店村"


def test_long_ids_stay_distinct():
    a, b = LONG_CHINESE + "一", LONG_CHINESE + "二"
    stems = check_unique_stems([a, b])
    assert stems[a] != stems[b] and all(len(s.encode("utf-8")) <= MAX_STEM_BYTES for s in stems.values())


def test_collision_is_one_line_naming_both_ids():
    with pytest.raises(LayerError) as err:
        check_unique_stems(["V/1", "V:1"], source="villages 图层 village_id 列")
    text = str(err.value)
    assert "\n" not in text and "'V/1'" in text and "'V:1'" in text and "villages" in text


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere.html"
    out.mkdir()
    elsewhere.write_text("keep", encoding="utf-8")
    (out / "V1.html").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="outside the output folder"):
        path_in(out, "V1", ".html")
    with pytest.raises(OutputError, match="not a plain file name"):
        path_in(out, "../x", ".html")
    assert elsewhere.read_text(encoding="utf-8") == "keep"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("stems")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.text(alphabet="./\\:*?\"<>| \t\x00\x1f.村", max_size=40))
def test_any_text_gives_a_plain_name_inside_the_folder(folder, text):
    stem = file_stem(text)
    assert stem and len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert not (_FORBIDDEN & set(stem)) and not any(unicodedata.category(c) == "Cc" for c in stem)
    assert ".." not in stem and not stem.startswith(".") and not stem.endswith((".", " "))
    path = path_in(folder, stem, ".html")
    assert path.resolve().parent == folder.resolve() and os.path.basename(path) == f"{stem}.html"
