"""layers.display.village_display_rows: one bulk query for all villages selects what each village's map
draws, the same features (in the same order, same roles in the same order) as the per-village selection
through District.village_layers that the maps used before."""

import numpy as np
import pandas as pd
import pytest

from layers.display import display_sources, village_display_layers, village_display_rows
from layers.landuse import is_farmland
from spatial.errors import LayerError
from tests.builders import district, frame, square

V1, V2, V3 = "110117104201", "110117104202", "110117104203"


def _reference(d, vid):
    """What the maps drew before (the per-village code the bulk selection replaced)."""
    layers = dict(d.village_layers(vid))
    survey = d.get("landuse_baseline") if "landuse_baseline" in d else d["landuse"]
    lu = layers.pop("landuse_baseline", None) if "landuse_baseline" in layers else layers.get("landuse")
    farmland = lu if lu is not None else survey.iloc[:0]
    layers["farmland"] = farmland[is_farmland(farmland["dlbm"])]
    layers.pop("landuse", None)
    return layers


def _three_villages(**extra):
    villages = frame([{"village_id": V1, "name": "东村", "geometry": square(0, 0, 100)},
                      {"village_id": V2, "name": "西村", "geometry": square(100, 0, 100)},
                      {"village_id": V3, "name": "北村", "geometry": square(0, 100, 200)},
                      {"village_id": V1, "name": "东村飞地", "geometry": square(500, 500, 10)}])  # 2nd row: ignored
    cells = [{"dlbm": code, "tbbh": str(k), "geometry": square(50 * (k % 5), 50 * (k // 5), 50)}
             for k, code in enumerate(["0101", "0702", "0103", "0201", "0102", None, "0101", "1001", "0103", "0101",
                                       "0702", "0101", "0301", "0101", "0102"])]
    parcels = frame([{"parcel_id": f"P{k}", "village_id": V1 if k % 2 else V2,
                      "geometry": square(20 * k + 5, 40, 30)} for k in range(9)])  # some cross the boundary
    buildings = frame([{"building_id": f"B{k}", "geometry": square(33 * k + 2, 150, 8)} for k in range(6)])
    kw = dict(villages=villages, landuse=frame(cells), parcels=parcels, buildings=buildings,
              roads=frame([{"road_id": "R1", "geometry": square(0, 0, 1)}]).iloc[:0],  # empty layer
              pbf=frame([{"pbf_id": "J1", "geometry": square(90, 90, 30)}]))
    kw.update(extra)
    return district(**kw)


@pytest.mark.parametrize("with_baseline", [False, True])
def test_bulk_rows_are_the_per_village_selection(with_baseline):
    extra = {}
    if with_baseline:
        extra["landuse_baseline"] = frame([{"dlbm": c, "tbbh": f"b{k}", "geometry": square(60 * k, 0, 60, 300)}
                                           for k, c in enumerate(["0101", "0201", "0103", "0702"])])
    d = _three_villages(**extra)
    ids = [V3, V1, V2]
    rows = village_display_rows(d, ids)
    sources = display_sources(d)
    for vid in ids:
        want = _reference(d, vid)
        got = village_display_layers(d, vid)
        assert list(got) == list(want) == list(rows[vid])  # same roles, same order (farmland last)
        for role, frame_ in want.items():
            if frame_ is None:
                assert got[role] is None
                continue
            pd.testing.assert_frame_equal(got[role], frame_)
            if rows[vid][role] is not None:
                pd.testing.assert_frame_equal(sources[role].iloc[rows[vid][role]], frame_)
    # the selection is not trivial: villages share boundary features and differ
    assert len(rows[V1]["parcels"]) and len(rows[V2]["parcels"]) and len(rows[V1]["farmland"])
    assert set(rows[V1]["parcels"]) & set(rows[V2]["parcels"])
    assert rows[V1]["roads"] is None
    assert np.all(np.diff(rows[V3]["farmland"]) > 0)


def test_unknown_village_is_refused_in_one_line():
    with pytest.raises(LayerError, match="'110117999999' is not in the villages layer"):
        village_display_rows(_three_villages(), [V1, "110117999999"])
