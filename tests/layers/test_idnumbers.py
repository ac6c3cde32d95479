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
