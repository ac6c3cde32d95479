import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.privacy import mask_frame, mask_id_number, mask_name

ID18 = "110117199001011234"
ID18X = "11011719850203456X"
ID15 = "110117850203456"


@pytest.mark.parametrize(("value", "masked"), [
    (ID18, "110117********1234"),
    (ID18X, "110117********456X"),
    ("11011719850203456x", "110117********456X"),
    (f"  {ID18} ", "110117********1234"),
    (ID15, "110117*****3456"),
    (110117199001011234, "110117********1234"),   # read as a number
    ("E12345678", "*******78"),                    # a passport number: too short to keep 10 characters
    ("123", "***"),
])
def test_mask_id_number_keeps_first_six_and_last_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_mask_id_number_missing_stays_none(missing):
    assert mask_id_number(missing) is None


@pytest.mark.parametrize(("value", "masked"), [
    ("张三丰", "张**"), ("李四", "李*"), ("王", "王"),
    ("欧阳娜娜", "欧阳**"), ("诸葛亮", "诸葛*"), ("司马相如", "司马**"), ("上官婉儿", "上官**"),
    ("欧阳", "欧*"),              # two characters: family name 欧, given name 阳
    ("张 三", "张*"), ("阿依古丽·买买提", "阿*******"),
    ("Zhang San", "Zhang ***"),
])
def test_mask_name_keeps_the_family_name(value, masked):
    assert mask_name(value) == masked


def test_mask_name_missing_stays_none():
    assert mask_name(None) is None and mask_name(float("nan")) is None


@pytest.fixture
def people():
    return gpd.GeoDataFrame(
        {"parcel_id": ["P1", "P2", "P3"],
         "owner_name": ["张三丰", "欧阳娜娜", None],
         "owner_id": [ID18, ID15, None],
         "message": [f"权利人{ID18}另有宅基地", f"{ID18X};{ID18};{ID15}", None],
         "note": pd.Series([f"ID{ID18}号", 12, None], dtype=object),
         "bdcdyh": ["2101171990010112345", "110117001001JC00001F00010001", "x"],  # 19 digits, a 28-char unit no.
         "floors": [1, 2, 3]},
        geometry=[shapely.box(508000, 4443000, 508010, 4443010)] * 3, crs=4548)


def test_mask_frame_masks_owner_columns_and_ids_inside_text(people):
    out = mask_frame(people)
    assert out["owner_name"].tolist() == ["张**", "欧阳**", None]
    assert out["owner_id"].tolist() == ["110117********1234", "110117*****3456", None]
    assert out["message"].iloc[0] == "权利人110117********1234另有宅基地"
    # adjacent ids separated by one character are all caught
    assert out["message"].iloc[1] == "110117********456X;110117********1234;110117*****3456"
    assert out["note"].tolist()[:2] == ["ID110117********1234号", 12]   # non-text values untouched
    # numbers that are not ID-number shaped stay as they are
    assert out["bdcdyh"].tolist() == people["bdcdyh"].tolist()
    assert out["floors"].tolist() == [1, 2, 3]


def test_mask_frame_returns_a_masked_copy(people):
    out = mask_frame(people)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == people.crs
    assert out.geometry.equals(people.geometry) and list(out.columns) == list(people.columns)
    assert people["owner_id"].iloc[0] == ID18 and people["owner_name"].iloc[0] == "张三丰"


def test_full_names_keeps_names_but_never_ids(people):
    out = mask_frame(people, full_names=True)
    assert out["owner_name"].tolist()[:2] == ["张三丰", "欧阳娜娜"]
    assert ID18 not in out.drop(columns="geometry").to_csv()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="村组号户，。 ;,:()甲乙ABC", max_size=8), st.text(alphabet="村组号户，。 ;,:()甲乙ABC", max_size=8),
       st.from_regex(r"\A[1-6][0-9]{16}[0-9X]\Z"))
def test_no_id_survives_in_any_text(before, after, id_number):
    frame = pd.DataFrame({"message": [before + id_number + after, id_number + ";" + id_number]})
    out = mask_frame(frame)
    for text in out["message"]:
        assert id_number not in text
        assert id_number[:6] + "********" + id_number[-4:] in text


def test_id_search_through_arrow_finds_what_python_re_finds():
    """The RE2 pass over a column (layers.privacy._id_hits) against Python's re, row by row."""
    import random
    import re

    from layers.privacy import _ANY_ID, _id_hits

    rng = random.Random(18)
    alphabet = list("0123456789０１２３xX ./-－年村号;,\n") + ["\u3000", "\t", "\uff0d"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(4000)]
    texts += ["110117199001011234\n", "110117850203456\n", "甲村"] * 50 + [""]
    texts = texts * 2 + [None]
    want = [bool(re.search(_ANY_ID, t)) if isinstance(t, str) else False for t in texts]
    assert sum(want) > 100
    for dtype in (object, "str", "string[python]"):
        column = pd.Series(texts, dtype=dtype)
        assert _id_hits(column).tolist() == want, dtype


def test_large_frames_masked_column_by_column_in_threads_as_one_by_one(monkeypatch):
    import layers.privacy as privacy

    n = privacy._THREADED_ROWS + 2000
    rng = np.random.default_rng(11643)
    ids = np.array(["110117199001011234", "11011719900101123X", "110117850203456", "FW00137835", "甲村"], dtype=object)
    frame = pd.DataFrame({
        "owner_id": ids[rng.integers(0, 5, n)],
        "owner_name": np.array(["张三丰", "欧阳娜娜", "110117199001011234", None], dtype=object)[rng.integers(0, 4, n)],
        "message": pd.array([f"权利人{v}有两处" for v in ids[rng.integers(0, 5, n)]], dtype="str"),
        "code": rng.integers(10**17, 10**18, n),                          # 18-digit integers: masked as text
        "area": rng.random(n) * 500,
        "kind": pd.Categorical(ids[rng.integers(0, 5, n)]),
    })
    threaded = mask_frame(frame)
    monkeypatch.setattr(privacy, "_THREADED_ROWS", 10 ** 12)             # the same frame, one column after another
    one_by_one = mask_frame(frame)
    pd.testing.assert_frame_equal(threaded, one_by_one)
    assert not threaded["message"].str.contains("110117199001011234").any()
    assert threaded["code"].str.contains(r"\*{8}").all()
