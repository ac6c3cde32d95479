"""Monitoring patches (FARM-PATCH) on the village map: one overlay per pre-judgement, coloured by it, with the
judgement and the patch's figures in the popup."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from analyses.findings import finalise
from analyses.registry import CATALOGUE
from maps.style import FAMILY_COLOURS, JUDGEMENT_COLOURS
from maps.village import render_village_map


def test_patches_are_drawn_by_judgement_with_figures_in_the_popup(tmp_path, village_factory):
    layers, findings, village = village_factory()
    x0, y0 = layers["villages"].total_bounds[:2]
    boxes = [shapely.box(x0 + 300 + 60 * k, y0 + 100, x0 + 340 + 60 * k, y0 + 130) for k in range(3)]
    raw = gpd.GeoDataFrame({
        "subject_layer": "monitoring_patches", "subject_id": ["W1", "W2", "W3"],
        "village_id": village["village_id"], "judgement": ["违法", "合法", "其他"],
        "severity": ["high", "low", "low"], "area_m2": 1200.0,
        "message": ["执法卫片图斑W1（建/构筑物）预判为违法：图斑面积1200.00平方米（1.800亩），其中耕地1200.00平方米（1.800亩）",
                    "执法卫片图斑W2预判为合法", "执法卫片图斑W3预判为其他"]}, geometry=boxes, crs=layers["villages"].crs)
    patches = finalise(CATALOGUE["FARM-PATCH"], raw)
    both = gpd.GeoDataFrame(pd.concat([findings, patches], ignore_index=True), crs=findings.crs)
    page = render_village_map(layers, both, village, tmp_path / "v.html").read_text(encoding="utf-8")
    for judgement in ("违法", "合法", "其他"):
        assert f"执法卫片图斑·{judgement}（1）" in page
        assert JUDGEMENT_COLOURS[judgement] in page
    assert "执法卫片图斑·待核查" not in page               # no overlay for a judgement no patch has
    assert "预判结论" in page and "其中耕地1200.00平方米（1.800亩）" in page
    # the other farmland findings keep their family's overlay
    assert FAMILY_COLOURS["farmland"] in page
