"""ID numbers never leave landguard in clear: masked by pattern in every output, whatever the column.

Unit tests of :func:`layers.privacy.mask_ids_in_text`, :func:`mask_name` and :func:`mask_frame` on every
form an ID number is written in (18 characters with ``X``, a wrong check digit, the old 15 digits, spaces,
dashes, dots or slashes between the groups, full-width digits, inside Chinese text, two in a row), and on
ordinary codes that must stay (12-digit village codes, 19-digit parcel codes, timestamps); then one run of
``check``, ``maps`` and ``export`` on a district with an ID number planted in many columns of many layers,
and a scan of every byte written.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest
from click.testing import CliRunner

from landguard.cli.main import cli
from layers.privacy import mask_frame, mask_id_number, mask_ids_in_data, mask_ids_in_text, mask_name
from tests.badinput.helpers import AS_OF, base_layers, write_district
from tests.builders import frame, square

# -- the forms an ID number is written in ----------------------------------------------------------------

FORMS: dict[str, tuple[str, str]] = {   # name -> (as written, masked)
    "18 with X": ("11010519491231002X", "110105********002X"),
    "18 lower-case x": ("11010519491231002x", "110105********002x"),
    "18 wrong check digit": ("110105194912310021", "110105********0021"),
    "15 digits": ("110105491231002", "110105*****1002"),
    "spaces 6-4-4-4": ("110117 1990 0101 123X", "110117********123X"),
    "spaces 6-8-4": ("110117 19900101 1234", "110117********1234"),
    "dashes": ("110117-19900101-123X", "110117********123X"),
    "dots": ("110117.1990.01.01.1234", "110117********1234"),
    "slashes": ("110117/19900101/1234", "110117********1234"),
    "15 with dashes": ("110105-491231-002", "110105*****1002"),
    "full-width": ("１１０１１７１９９００１０１１２３Ｘ", "１１０１１７********１２３Ｘ"),
    "full-width dashes": ("１１０１１７－１９９００１０１－１２３４", "１１０１１７********１２３４"),
    "ideographic spaces": ("110117\u30001990\u30000101\u3000123X", "110117********123X"),
}

NOT_IDS = [
    "110117104201",                       # 12-digit 统计用区划代码 (village code)
    "110117104201001",                    # hmm: 15 digits -- see test_a_15_digit_run_is_masked
    "110117001001JC00001",                # 19-character 宗地代码
    "2101171990010112345",                # 19 digits
    "110117001001JC00001F00010001",       # 28-character 不动产单元号
    "2026-11-22 08:30:00",
    "2026-11-22T08:30:00.123456+08:00",
    "20261122083000",                     # 14-digit timestamp
    "1764000000000",                      # epoch milliseconds
    "1764000000000000000",                # epoch nanoseconds (19 digits)
    "1990-01-01/2020-12-31",
    "116.3971284 39.9165273",             # lon lat
    "13812345678 13912345678",            # two phone numbers
    "010-8888 6666",
    "P1;P2;B000123",
]
NOT_IDS.remove("110117104201001")  # a 15-digit run is an old ID number's shape: masked (documented)


@pytest.mark.parametrize("name", list(FORMS))
def test_every_form_is_masked_alone_and_inside_chinese_text(name):
    clear, masked = FORMS[name]
    assert mask_ids_in_text(clear) == masked
    assert mask_ids_in_text(f"权利人{clear}另有宅基地") == f"权利人{masked}另有宅基地"
    assert mask_ids_in_text(f"身份证号：{clear}。") == f"身份证号：{masked}。"
    assert mask_ids_in_text(f"ID{clear}") == f"ID{masked}"


def test_two_and_three_ids_in_a_row_are_all_masked():
    a, b, c = (FORMS[k] for k in ("18 with X", "15 digits", "dashes"))
    assert mask_ids_in_text(f"{a[0]};{b[0]}") == f"{a[1]};{b[1]}"
    assert mask_ids_in_text(f"{a[0]};{b[0]};{c[0]};{a[0]}") == f"{a[1]};{b[1]};{c[1]};{a[1]}"
    assert mask_ids_in_text(f"{a[0]} {a[0]}") == f"{a[1]} {a[1]}"


@pytest.mark.parametrize("text", NOT_IDS)
def test_ordinary_codes_and_timestamps_stay(text):
    assert mask_ids_in_text(text) == text
    assert mask_frame(pd.DataFrame({"c": [text]}))["c"].tolist() == [text]


def test_a_15_digit_run_is_masked():
    # the old ID form has no structure to tell it from another 15-digit code: it is masked
    assert mask_ids_in_text("110117104201001") == "110117*****1001"


def test_a_masked_text_stays_as_it_is():
    once = mask_ids_in_text("；".join(c for c, _ in FORMS.values()))
    assert mask_ids_in_text(once) == once


@pytest.mark.parametrize("name", list(FORMS))
def test_an_id_typed_as_the_owner_name_is_masked(name):
    clear, masked = FORMS[name]
    assert mask_name(clear) == masked
    df = pd.DataFrame({"owner_name": [clear, "张三丰", f"张三{clear}"]})
    assert mask_frame(df)["owner_name"].tolist() == [masked, "张**", "张" + "*" * (len(f"张三{masked}") - 1)]
    # --full-names keeps names, never ID numbers
    assert mask_frame(df, full_names=True)["owner_name"].tolist() == [masked, "张三丰", f"张三{masked}"]


def test_a_latin_name_that_is_a_certificate_number_is_masked():
    assert mask_name("E12345678") == "*******78"
    assert mask_name("Zhang San") == "Zhang ***"


@pytest.mark.parametrize("dtype", [object, "str", pd.StringDtype("python"), pd.StringDtype("pyarrow"),
                                   pd.ArrowDtype(pa.string()), "category"])
def test_every_text_dtype_is_masked(dtype):
    values = [c for c, _ in FORMS.values()] + ["110117104201", None]
    out = mask_frame(pd.DataFrame({"approval_id": pd.Series(values, dtype=dtype)}))["approval_id"]
    got = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in out.tolist()]
    assert got == [m for _, m in FORMS.values()] + ["110117104201", None]


def test_mixed_object_and_numeric_columns_are_masked():
    df = pd.DataFrame({
        "mixed": pd.Series(["110117199001011234", 110117199001011234, 7, ["110105491231002", "P1"], None],
                           dtype=object),
        "int64": np.array([110117199001011234, 110105491231002, 3, 4, 5], dtype=np.int64),
        "Int64": pd.array([110117199001011234, None, 3, 4, 5], dtype="Int64"),
        "float": [1.1010519491231002e17, np.nan, 2.5, 3.0, 4.0],
        "small": [1, 2, 3, 4, 5],
    })
    out = mask_frame(df)
    assert out["mixed"].tolist()[:4] == ["110117********1234", "110117********1234", 7, "['110105*****1002', 'P1']"]
    assert out["int64"].tolist() == ["110117********1234", "110105*****1002", "3", "4", "5"]
    assert out["Int64"].tolist()[0] == "110117********1234" and out["Int64"].tolist()[2:] == ["3", "4", "5"]
    assert out["float"].iloc[0].startswith("110105") and "*" in out["float"].iloc[0]
    assert out["small"].tolist() == [1, 2, 3, 4, 5] and out["small"].dtype == np.int64


def test_owner_id_keeps_six_and_four_in_every_form():
    assert mask_id_number("110117 1990 0101 123x").startswith("110117*") and mask_id_number(
        "110117 1990 0101 123x").endswith("123X")
    assert "19900101" not in mask_id_number("１１０１１７１９９００１０１１２３Ｘ")


def test_a_column_named_by_an_id_is_masked():
    out = mask_frame(pd.DataFrame({"110117199001011234": [1]}))
    assert list(out.columns) == ["110117********1234"]


def test_json_data_masks_strings_keys_and_numbers():
    data = {"notes": [{"value": "110117-19900101-123X"}], "110105491231002": 110117199001011234, "n": 3}
    assert mask_ids_in_data(data) == {"notes": [{"value": "110117********123X"}], "110105*****1002":
                                      "110117********1234", "n": 3}


def test_a_large_column_is_masked_quickly():
    import time

    n = 200_000
    s = pd.Series([f"房屋B{i}，权利人110117199001011234" if i % 100 == 0 else f"B{i:06d}" for i in range(n)])
    t = time.perf_counter()
    out = mask_frame(pd.DataFrame({"message": s}))
    assert time.perf_counter() - t < 5.0
    assert out["message"].iloc[0] == "房屋B0，权利人110117********1234" and out["message"].iloc[1] == "B000001"


# -- end to end: check, maps, export; every byte written is scanned ----------------------------------------

_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X", "x": "X"})
_SEPARATORS = re.compile("[\\s\u3000./\\-\uff0d\uff0e\uff0f\u2010-\u2015]+")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _core(text: str) -> str:
    """A text as a scanner sees it: entities and \\u escapes decoded, full-width to ASCII, separators gone."""
    text = html.unescape(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    return _SEPARATORS.sub("", text.translate(_FULLWIDTH))


#: The digits of every ID number planted, as the scanner looks for them.
PLANTED = sorted({_core(c) for c, _ in FORMS.values()})


def _leaks(text: str) -> list[str]:
    core = _core(text)
    return [p for p in PLANTED if p in core]


def _planted(i: int) -> str:
    forms = list(FORMS.values())
    return forms[i % len(forms)][0]


def _district(folder: Path) -> Path:
    """The clean test district with an ID number, in every form, in many columns of many layers."""
    layers = base_layers()
    n = len(FORMS)
    layers["parcels"] = frame([
        {"parcel_id": f"P1 {_planted(0)}", "owner_name": _planted(1), "owner_id": _planted(2),
         "household_id": "H1", "approved_date": _planted(3), "geometry": square(-100, 0, 20)},
        {"parcel_id": f"P2 {_planted(4)}", "owner_name": f"张三{_planted(5)}", "owner_id": _planted(2),
         "household_id": "H1", "approved_date": _planted(6), "geometry": square(-60, 0, 20)},
        {"parcel_id": "P3", "owner_name": _planted(7), "owner_id": f"{_planted(8)};{_planted(9)}",
         "household_id": _planted(10), "approved_date": "2001-05-01", "geometry": square(-200, 0, 20)}])
    layers["buildings"] = frame([
        {"building_id": "B1", "approval_id": _planted(11), "geometry": square(-98, 2, 10)},
        {"building_id": f"B2 {_planted(12)}", "approval_id": f"{_planted(0)};{_planted(3)}",
         "geometry": square(100, 100, 10)},
        {"building_id": "B3", "approval_id": _planted(4), "geometry": square(-58, 2, 10)},
        {"building_id": f"B4（{_planted(6)}）", "approval_id": _planted(5), "geometry": square(300, 300, 12)},
        {"building_id": "B5", "approval_id": None, "geometry": square(130, 130, 8)}])
    layers["landuse"] = frame([
        {"dlbm": "0702", "tbbh": _planted(7), "geometry": square(-500, -500, 500, 1000)},
        {"dlbm": "0103", "tbbh": _planted(8), "geometry": square(0, -500, 500, 1000)}])
    layers["approvals"] = frame([
        {"approval_id": _planted(9), "kind": "construction", "approved_area_m2": 200.0,
         "valid_from": _planted(10), "geometry": square(290, 290, 40)},
        {"approval_id": _planted(11), "kind": "temporary", "approved_area_m2": 100.0,
         "valid_from": "2020-01-01", "valid_until": _planted(12), "geometry": square(120, 120, 30)}])
    layers["roads"] = frame([
        {"road_id": _planted(1), "grade": "county", "geometry": square(-500, 200, 1000, 8)}])
    layers["pbf"] = frame([{"pbf_id": _planted(2), "geometry": square(0, -500, 500, 1000)}])
    layers["eco_redline"] = frame([{"name": f"生态红线{_planted(3)}", "geometry": square(90, 90, 30)}])
    layers["nature_reserves"] = frame([{"name": _planted(4), "zone": "core", "geometry": square(280, 280, 40)}])
    assert n == 13
    return write_district(folder, layers)


def _invoke(*args: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(cli, [str(a) for a in args])


def _gpkg_texts(path: Path) -> list[str]:
    """Every text value of a GeoPackage: by sqlite (all tables, table and column names too) and by GDAL."""
    texts = []
    con = sqlite3.connect(path)
    try:
        for (table,) in con.execute("select name from sqlite_master where type in ('table', 'view')"):
            texts.append(table)
            cur = con.execute(f'select * from "{table}"')
            texts += [d[0] for d in cur.description]
            for row in cur:
                texts += [v if isinstance(v, str) else v.decode("utf-8", "replace") if isinstance(v, bytes)
                          else repr(v) for v in row if v is not None]
    finally:
        con.close()
    for layer, _ in pyogrio.list_layers(path):
        df = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
        texts += [str(c) for c in df.columns]
        texts += [str(v) for col in df.columns for v in df[col].tolist() if v is not None]
    return texts


def test_check_maps_and_export_write_no_id_number_in_clear(tmp_path):
    data = _district(tmp_path / "data")
    # the scanner is not blind: it finds every planted form in the input files
    found = set()
    for f in data.iterdir():
        for t in _gpkg_texts(f):
            found.update(_leaks(t))
    assert found == set(PLANTED)

    run = tmp_path / "run"
    res = _invoke("check", "--data", data, "--out", run, "--as-of", AS_OF, "--jobs", "1")
    assert res.exit_code == 0, res.output
    assert not _leaks(res.output), res.output
    res_maps = _invoke("maps", "--findings", run, "--data", data, "--out", tmp_path / "maps", "-q")
    assert res_maps.exit_code == 0, res_maps.output
    res_export = _invoke("export", "--findings", run, "--data", data, "--out", tmp_path / "field")
    assert res_export.exit_code == 0, res_export.output
    res_full = _invoke("export", "--findings", run, "--data", data, "--out", tmp_path / "field-full", "--full-names")
    assert res_full.exit_code == 0, res_full.output
    for r in (res_maps, res_export, res_full):
        assert not _leaks(r.output), r.output

    written = [p for d in ("run", "maps", "field", "field-full") for p in (tmp_path / d).rglob("*") if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".gpkg", ".json", ".txt", ".html", ".geojson", ".kml"} <= kinds, kinds
    for path in written:
        raw = path.read_bytes()
        leaks = _leaks(raw.decode("utf-8", "replace"))
        assert not leaks, (path.name, leaks)
        for enc in ("utf-16-le", "gbk"):  # a value stored in another encoding inside a binary file
            for clear, _ in FORMS.values():
                try:
                    assert clear.encode(enc) not in raw, (path.name, clear, enc)
                except UnicodeEncodeError:
                    pass
        if path.suffix == ".gpkg":
            for t in _gpkg_texts(path):
                assert not _leaks(t), (path.name, t)
        if path.suffix in (".geojson", ".json"):
            doc = json.loads(raw)
            assert not _leaks(json.dumps(doc, ensure_ascii=False)), path.name

    # the values did reach the outputs (masked): the scan above would have caught them in clear
    findings = pyogrio.read_dataframe(run / "findings.gpkg", layer="findings")
    subjects = " ".join(findings["subject_id"].astype(str))
    assert "B2 110117********123X" in subjects                         # B2's id, masked, on its FARM-BUILD finding
    maps_text = " ".join(p.read_text(encoding="utf-8") for p in (tmp_path / "maps").glob("*.html"))
    assert "********" in _core(maps_text)                              # popups carry the masked ids
    summary = (run / "summary.txt").read_text(encoding="utf-8") + (run / "summary.json").read_text(encoding="utf-8")
    assert "*****" in summary                                          # the bad dates are quoted, masked
