"""findings.gpkg written through Arrow holds what the other writer wrote: same fields, types and values.

Frames are built here with an explicit CRS; the reference is pyogrio's non-Arrow writer on the same masked,
cleaned frame (what write_findings did before it used Arrow).
"""

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import landguard.outputs as outputs
from landguard.outputs import arrow_writes, write_findings
from layers.privacy import mask_frame
from spatial.clean import GPKG_DATASET_OPTIONS, clean_polygons

CRS = "EPSG:4548"


def hostile_findings(n: int = 6) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    boxes = [shapely.box(508000 + 30 * i, 4443000, 508010 + 30 * i + rng.random(), 4443010) for i in range(n)]
    boxes[1] = shapely.Point(508100, 4443100)                        # no area: a marker square
    boxes[2] = None
    text = ["张三宅", None, "0101", "", "权利人110117199001011234有两处", "=HYPERLINK(\"x\")"][:n]
    return gpd.GeoDataFrame({
        "case_id": pd.array([f"C{i}" for i in range(n)], dtype="str"),
        "message": pd.array(text, dtype="str"),
        "village_id": pd.Series(["110117001001", None, float("nan"), "V", "V", "110117001001"][:n], dtype=object),
        "judgement": pd.Series([None] * n, dtype=object),
        "measured": [1.5, float("nan"), float("inf"), -0.0, 1e16, 3.0][:n],
        "count": np.array([1, 2, 3, 4, 5, 110105194912310021][:n], dtype=np.int64),
        "flag": [True, False, True, False, True, False][:n],
    }, geometry=boxes, crs=CRS)


def reference_file(frame: gpd.GeoDataFrame, path) -> None:
    masked = mask_frame(frame)
    masked = masked.copy()
    masked[masked.geometry.name] = gpd.GeoSeries(clean_polygons(masked.geometry.values), index=masked.index,
                                                 crs=masked.crs)
    pyogrio.write_dataframe(masked, path, layer="findings", driver="GPKG", geometry_type="MultiPolygon",
                            use_arrow=False, dataset_options=GPKG_DATASET_OPTIONS)


def same_contents(a, b, layer="findings") -> None:
    ia, ib = pyogrio.read_info(a, layer=layer), pyogrio.read_info(b, layer=layer)
    assert list(ia["fields"]) == list(ib["fields"])
    assert list(ia["dtypes"]) == list(ib["dtypes"])
    assert ia["geometry_type"] == ib["geometry_type"] and ia["features"] == ib["features"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa, fb = pyogrio.read_dataframe(a, layer=layer), pyogrio.read_dataframe(b, layer=layer)
    for c in fa.columns:
        if c == "geometry":
            given = ~fa.geometry.isna().to_numpy()
            assert (given == ~fb.geometry.isna().to_numpy()).all()
            assert shapely.equals_exact(fa.geometry.to_numpy()[given], fb.geometry.to_numpy()[given], 0).all()
        else:
            left = fa[c].astype(object).where(fa[c].notna(), None).tolist()
            right = fb[c].astype(object).where(fb[c].notna(), None).tolist()
            assert left == right, c


def test_arrow_written_findings_are_what_the_other_writer_wrote(tmp_path):
    frame = hostile_findings()
    assert arrow_writes(mask_frame(frame))
    write_findings(frame, tmp_path / "arrow.gpkg")
    reference_file(frame, tmp_path / "ref.gpkg")
    same_contents(tmp_path / "arrow.gpkg", tmp_path / "ref.gpkg")
    got = pyogrio.read_dataframe(tmp_path / "arrow.gpkg")
    assert got["count"].tolist()[-1] == 110105194912310021 or "*" in str(got["count"].tolist()[-1])
    assert "110117199001011234" not in " ".join(got["message"].dropna())   # masked before writing
    assert got["message"].tolist()[2] == "0101"                              # text codes stay text


@pytest.mark.parametrize("column", [
    pd.Series(["a", 3, None, 2.5, "b", "c"], dtype=object),                       # mixed objects
    pd.Series(pd.to_datetime(["2021-07-01"] * 6)),                               # dates
    pd.Series(pd.array([1, None, 3, 4, 5, 6], dtype="Int64")),                     # nullable integers
    pd.Series(["x", "y", "x", "y", "x", "y"], dtype="category"),
])
def test_other_column_types_keep_the_other_writer(tmp_path, column):
    frame = hostile_findings()
    frame["odd"] = column.array
    assert not arrow_writes(mask_frame(frame))
    write_findings(frame, tmp_path / "out.gpkg")
    reference_file(frame, tmp_path / "ref.gpkg")
    same_contents(tmp_path / "out.gpkg", tmp_path / "ref.gpkg")


def test_geometries_cleaned_in_threaded_pieces_are_those_of_one_call(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.random(2000) * 1000
    sliver = [shapely.Polygon([(a, 0), (a + 10, 0), (a + 10, 0.0004), (a, 0.0002)]) for a in x[:50]]
    geoms = np.array([shapely.box(a, 0, a + 5 + rng.random(), 5) for a in x] + sliver + [None, shapely.Point(1, 1)],
                     dtype=object)
    monkeypatch.setattr(outputs, "_CLEAN_ROWS", 300)    # many pieces for a small input
    got = outputs._clean_in_threads(geoms, grid=0.001)
    want = clean_polygons(geoms, grid=0.001)
    assert len(got) == len(want)
    assert (shapely.is_missing(got) == shapely.is_missing(want)).all()
    have = ~shapely.is_missing(want)
    assert shapely.equals_exact(got[have], want[have], tolerance=0).all()
