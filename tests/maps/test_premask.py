"""maps.premask.MaskedRows: rows taken from the masked whole layer equal masking those rows alone.

The frame is hostile on purpose: ID numbers in text, as 18-digit integers in only some rows (mask_frame
turns such a numeric column into text only when one of the rows has one), integral and fractional floats,
a categorical whose masked categories collide, numeric and text owner ids, names, dates, pyarrow strings,
a column name holding an ID number, and an index that is not 0..n-1.
"""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from layers.privacy import mask_frame
from maps.premask import MaskedRows
from tests.builders import CRS, frame, square

ID_A = "110117199001011234"
ID_B = "11011719850203456X"


def _hostile(n: int = 12):
    rows = []
    for i in range(n):
        rows.append({
            "parcel_id": f"110117101201JC{i:05d}",
            "owner_name": ["张三丰", "欧阳娜娜", f"{ID_A}", None, "Zhang San"][i % 5],
            "owner_id": [ID_A, ID_B.lower(), None, "E12345678"][i % 4],
            "note": [f"权利人{ID_A}", "无", None, f"{ID_B};{ID_A}"][i % 4],
            "big": [110117199001011234, 5, 7][i % 3] if i >= 6 else 5,   # ID-shaped only in rows 6, 9
            "ratio": [0.5, 1.0, 2.25][i % 3],
            "kind": [ID_A, "110117********1234", "a"][i % 3],              # collides once masked
            "when": pd.Timestamp("2026-01-01") + pd.Timedelta(days=i),
            "geometry": square(10 * i, 0, 5),
        })
    f = frame(rows)
    f["big"] = f["big"].astype("Int64")
    f["kind"] = f["kind"].astype("category")
    f["note"] = f["note"].astype("string[pyarrow]")
    f[f"col{ID_A}"] = np.arange(n, dtype=float)
    f["owner_num"] = [float(ID_A), 12.0, np.nan] * (n // 3)
    f.index = pd.Index(np.arange(n) * 7 + 3)
    return f


@pytest.mark.parametrize("full_names", [False, True])
@pytest.mark.parametrize("rows", [[0, 1, 2], [6, 7, 8, 9], [3], [], list(range(12)), [11, 0, 5]])
def test_take_equals_masking_the_rows_alone(rows, full_names):
    f = _hostile()
    got = MaskedRows(f, full_names=full_names).take(np.array(rows, dtype=int))
    want = mask_frame(f.iloc[rows], full_names=full_names)
    assert_frame_equal(got, want)
    assert got.crs == want.crs == CRS


def test_the_rows_dependent_columns_really_depend_on_the_rows():
    """Without the per-slice re-masking the first slice's ``big`` would be text and ``kind``'s categories
    would not be those of the slice: the case the test above guards."""
    f = _hostile()
    whole = mask_frame(f)
    assert whole["big"].dtype == object and mask_frame(f.iloc[[0, 1]])["big"].dtype == "Int64"
    assert whole["big"].tolist()[6] == "110117********1234"
    assert list(mask_frame(f.iloc[[2]])["kind"].cat.categories) != list(whole["kind"].cat.categories)


def test_like_finds_the_rows_by_label_and_falls_back_for_foreign_rows():
    f = _hostile()
    m = MaskedRows(f)
    part = f.iloc[[4, 9, 2]]
    assert_frame_equal(m.like(part), mask_frame(part))
    foreign = part.copy()
    foreign.index = foreign.index + 1000  # labels not in the whole: masked on its own
    assert_frame_equal(m.like(foreign), mask_frame(foreign))


def test_duplicate_index_is_masked_per_slice():
    f = _hostile()
    f.index = [0] * len(f)
    m = MaskedRows(f)
    assert_frame_equal(m.take(np.array([1, 6])), mask_frame(f.iloc[[1, 6]]))
    assert m.take(np.array([4]))["owner_id"].tolist() == ["110117********1234"]
