import pandas as pd
import pytest

from layers.idnumbers import check_digit, is_valid_id, normalise_id, normalise_ids


def test_check_digit_known_value():
    # the GB 11643 standard's own example
    assert check_digit("11010519491231002") == "X"


@pytest.mark.parametrize("raw", ["110105491231002", "１１０１０５１９４９１２３１００２Ｘ", " 1101 0519 4912 3100 2x ",
                                 "11010519491231002x", "110105-19491231-002X", "110105.1949.12.31.002x",
                                 "110105/491231/002", "１１０１０５－１９４９１２３１－００２Ｘ"])
def test_forms_of_one_number_normalise_to_one(raw):
    assert normalise_id(raw) == "11010519491231002X"


def test_wrong_check_digit_is_invalid_but_kept_for_the_report():
    ids, ok = normalise_ids(pd.Series(["110105194912310021", None, "abc"]))
    assert ids.tolist()[0] == "110105194912310021"
    assert ok.tolist() == [False, False, False]
    assert not is_valid_id("11010519491231002")


@pytest.mark.parametrize("raw", ["P-12", "2026-11-22", "110117-104201", "1.5"])
def test_separators_stay_in_what_is_not_an_id_number(raw):
    assert normalise_id(raw) == raw


def _hostile_ids() -> list:
    import random

    rng = random.Random(11643)
    alphabet = list("0123456789xX -./") + ["１", "９", "Ｘ", "ｘ", "\u3000", "\u00a0", "\uff0d", "\u2014", "٣", "²", ".0"]
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 22))) for _ in range(3000)]
    known = ["110105491231002", "11010519491231002X", "11010519491231002x", " 1101 0519 4912 3100 2x ",
             "110105-19491231-002X", "１１０１０５４９１２３１００２", "110105194912310021", "110105491231002.0",
             "110105194912310021.0", ".0", "", "   ", "P-12", "2026-11-22", "110117-104201", "1.5",
             "11010519491231002\u3000X", "110105\u00a0491231002", "ß11010519491231002"]
    return known + made + [None, float("nan"), pd.NA]


def _one_by_one(values) -> pd.Series:
    return pd.Series(values, dtype=object).map(normalise_id)  # what normalise_ids was before it was vectorised


def test_column_normalisation_is_the_value_by_value_one():
    values = _hostile_ids()
    ids, ok = normalise_ids(pd.Series(values, dtype=object))
    pd.testing.assert_series_equal(ids, _one_by_one(values))
    assert ok.tolist() == [is_valid_id(normalise_id(v)) for v in values]
    assert ok.sum() > 3                                    # the check digits were computed, not all refused


def test_column_normalisation_of_numbers_and_mixed_columns():
    values = [110105194912310021, 11010519491231002.0, "11010519491231002X", None, 3, float("nan")]
    ids, ok = normalise_ids(pd.Series(values, dtype=object))
    pd.testing.assert_series_equal(ids, _one_by_one(values))
    assert ok.tolist() == [is_valid_id(normalise_id(v)) for v in values]
    ids, ok = normalise_ids(pd.Series(["110105491231002", None], dtype="str"))
    assert ids.tolist()[0] == "11010519491231002X" and pd.isna(ids[1]) and ok.tolist() == [True, False]
    for empty in ([None, None], []):
        ids, ok = normalise_ids(pd.Series(empty, dtype=object))
        pd.testing.assert_series_equal(ids, _one_by_one(empty)) if empty else None
        assert ok.tolist() == [False] * len(empty)
