"""Land-use code helpers give every row the value of its own code, whether computed per distinct code or row-wise."""

import numpy as np
import pandas as pd

from layers.landuse import class_name, first_level, is_construction, is_farmland, stem


def test_many_rows_of_few_codes_get_their_own_values():
    codes = pd.Series(["0101", " 0103 ", "1104A", "0307k", None, "1006", "0702"] * 3000, dtype="str")
    assert stem(codes)[:7].tolist()[:4] == ["0101", "0103", "1104", "0307"]
    assert pd.isna(stem(codes)[4])
    assert is_farmland(codes)[:7].tolist() == [True, True, False, False, False, False, False]
    assert is_construction(codes)[:7].tolist() == [False, False, False, False, False, False, True]
    assert class_name(codes)[:3].tolist() == ["水田", "旱地", "养殖坑塘"]
    assert (stem(codes).index == codes.index).all()
    # rows far apart with the same code agree
    assert stem(codes)[7 * 2999 + 2] == "1104"


def test_numeric_codes_are_not_merged_with_their_float_twins():
    codes = pd.Series([101, 101.0, "0101", np.nan], dtype=object)
    assert stem(codes).tolist()[:3] == ["101", "101.0", "0101"]
    assert first_level(codes).tolist()[:3] == ["10", "10", "01"]
    assert is_farmland(codes).tolist() == [False, False, True, False]
