"""Scale generator: a synthetic district of N villages for the benchmarks (``--villages 300`` is district-L).

    python benchmarks/generate.py --villages 300 --out benchmarks/data/district-300

Writes ``district.gpkg`` (every vector role, EPSG:4548), ``landguard.toml`` and ``meta.json`` (feature
counts). Everything is drawn as whole numpy arrays (``shapely.box`` on arrays, vectorised ID numbers), so
district-L takes seconds to build; writing the GeoPackage dominates.

Layout: villages are 1.5 km squares on a grid (20 to a township). Each village has a settlement of
20 x 18 homestead parcels (12 m x 13 m, back-to-back rows along 6 m streets) with one house per parcel (a
quarter with a side building), on a 0702 patch of 5 x 5 land-use cells; the rest of the village is a grid of
60 m x 62.5 m land-use cells (575 per village), most of them farmland, three quarters of the farmland also
permanent basic farmland (one PBF polygon per cell). One eco red line, a meandering band that crosses the
whole district diagonally, has an edge of ``--redline-vertices`` vertices (default 200,000): its bounding box
covers every building, which is what makes un-subdivided overlays slow. Planted, at realistic rates:
houses in fields (some approved), houses over their parcel's edge or over two parcels, owners holding two
parcels (also across villages), relocations not cleared, land-use changes between the baseline and the
current survey, tall and three-floor houses, roofs pitched outside 26–30°, parcels over 0.26 亩.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

__all__ = ["generate", "build"]

CRS = "EPSG:4548"
X0, Y0 = 470000.0, 4420000.0          # south-west corner (CGCS2000 / GK CM 117°E)
VILLAGE = 1500.0                       # village side (m)
CELL_W, CELL_H = 60.0, 62.5            # land-use cell (25 x 24 per village)
N_CX, N_CY = 25, 24
SETTLE_CX, SETTLE_CY = (10, 15), (10, 15)   # settlement cells (5 x 5, 300 m x 312.5 m)
P_W, P_H, STREET = 12.0, 13.0, 6.0
P_COLS, P_ROWS = 20, 18
TOWNSHIP_SIZE = 20

_SURNAMES = np.array(list("王李张刘陈杨赵黄周吴徐孙马胡朱郭何高林郑梁谢宋唐许韩冯邓曹彭田董潘袁蒋于杜叶程魏苏吕丁任"))
_GIVEN = np.array(list("建国华明秀英玉兰志强军平海燕红霞春梅丽伟芳敏静桂凤珍荣福永德成宝林山文金生立新庆东连学树"))
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_FARM = np.array(["0101", "0102", "0103"])


def _id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct, valid 18-character resident ID numbers (GB 11643), vectorised."""
    birth = pd.Series((pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 60 * 365, n), unit="D"))
                      .strftime("%Y%m%d"))
    area = pd.Series(np.where(rng.random(n) < 0.6, "110117", "110226"))
    # the sequence number counts people of one area and birthday: every number is distinct
    seq = pd.DataFrame({"a": area, "b": birth}).groupby(["a", "b"]).cumcount() * 2 + rng.integers(0, 2, n)
    body = area + birth + seq.map("{:03d}".format)
    digits = np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(n, 17) - 48
    check = _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]
    return (body + check).to_numpy(dtype=object)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = _SURNAMES[rng.integers(0, len(_SURNAMES), n)]
    g1 = _GIVEN[rng.integers(0, len(_GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.6, _GIVEN[rng.integers(0, len(_GIVEN), n)], "")
    return (pd.Series(s) + pd.Series(g1) + pd.Series(g2)).to_numpy(dtype=object)


def _frame(data: dict, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=np.asarray(geoms, dtype=object), crs=CRS)


def build(n_villages: int, seed: int = 0, redline_vertices: int = 200_000) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of a synthetic district of ``n_villages`` villages, in memory.

    Examples
    --------
    >>> layers = build(2)
    >>> len(layers["villages"]), len(layers["parcels"]) >= 700
    (2, True)
    """
    rng = np.random.default_rng(seed)
    nv = int(n_villages)
    cols = int(np.ceil(np.sqrt(nv * 4 / 3)))
    rows = int(np.ceil(nv / cols))
    k = np.arange(nv)
    vc, vr = k % cols, k // cols
    vx, vy = X0 + vc * VILLAGE, Y0 + vr * VILLAGE
    town = k // TOWNSHIP_SIZE
    village_ids = np.array([f"110117{101 + t:03d}{201 + i % TOWNSHIP_SIZE:03d}" for i, t in zip(k, town)], dtype=object)
    layers: dict[str, gpd.GeoDataFrame] = {}
    layers["villages"] = _frame({"village_id": village_ids,
                                 "name": np.array([f"第{i + 1}村" for i in k], dtype=object),
                                 "township": np.array([f"第{t + 1}镇" for t in town], dtype=object)},
                                shapely.box(vx, vy, vx + VILLAGE, vy + VILLAGE))

    # ---- land-use cells ------------------------------------------------------------------------
    cx, cy = np.meshgrid(np.arange(N_CX), np.arange(N_CY))
    cx, cy = cx.ravel(), cy.ravel()
    in_settle = (cx >= SETTLE_CX[0]) & (cx < SETTLE_CX[1]) & (cy >= SETTLE_CY[0]) & (cy < SETTLE_CY[1])
    cx, cy = cx[~in_settle], cy[~in_settle]
    per = len(cx)
    lv = np.repeat(k, per)
    lx0 = vx[lv] + np.tile(cx, nv) * CELL_W
    ly0 = vy[lv] + np.tile(cy, nv) * CELL_H
    cells = shapely.box(lx0, ly0, lx0 + CELL_W, ly0 + CELL_H)
    u = rng.random(len(cells))
    base_code = np.select(
        [u < 0.62, u < 0.70, u < 0.80, u < 0.85, u < 0.87, u < 0.90, u < 0.92, u < 0.94, u < 0.96],
        [_FARM[rng.integers(0, 3, len(cells))], "0201", "0301", "0404", "1104", "1006", "0601", "1202", "1101"],
        "0305")
    sx0 = vx + SETTLE_CX[0] * CELL_W
    sy0 = vy + SETTLE_CY[0] * CELL_H
    settle = shapely.box(sx0, sy0, sx0 + 5 * CELL_W, sy0 + 5 * CELL_H)
    lu_geoms = np.concatenate([cells, settle])
    base_codes = np.concatenate([base_code, np.full(nv, "0702", dtype=object)]).astype(object)
    tbbh = np.array([f"{i + 1:07d}" for i in range(len(lu_geoms))], dtype=object)
    is_farm = np.isin(base_codes, _FARM)
    current = base_codes.copy()
    change = is_farm & (rng.random(len(current)) < 0.025)
    current[change] = np.array(["0601", "0702", "0301", "1104", "0201", "1104A", "1202", "0307K"],
                               dtype=object)[rng.integers(0, 8, int(change.sum()))]
    layers["landuse_baseline"] = _frame({"dlbm": base_codes, "tbbh": tbbh, "survey_year": np.full(len(tbbh), 2019)},
                                        lu_geoms)
    layers["landuse"] = _frame({"dlbm": current, "tbbh": tbbh, "survey_year": np.full(len(tbbh), 2024)}, lu_geoms)
    pbf_rows = np.flatnonzero(is_farm & (rng.random(len(is_farm)) < 0.75))
    layers["pbf"] = _frame({"pbf_id": np.array([f"PBF{i + 1:07d}" for i in range(len(pbf_rows))], dtype=object)},
                           lu_geoms[pbf_rows])

    # ---- parcels and houses ---------------------------------------------------------------------
    pc, pr = np.meshgrid(np.arange(P_COLS), np.arange(P_ROWS))
    pc, pr = pc.ravel(), pr.ravel()
    off_x = 25.0 + pc * P_W + (pc >= P_COLS // 2) * 5.0
    off_y = 20.0 + pr * P_H + (pr // 2) * STREET
    npv = len(pc)
    pv = np.repeat(k, npv)
    px0 = sx0[pv] + np.tile(off_x, nv)
    py0 = sy0[pv] + np.tile(off_y, nv)
    n_p = len(pv)
    big = rng.random(n_p) < 0.04                       # HOME-AREA: parcels over 0.26 亩
    pw = np.where(big, P_W, P_W - rng.uniform(0, 0.6, n_p))
    ph = np.where(big, P_H + 2.0, P_H - rng.uniform(0, 0.6, n_p))
    parcel_ids = (pd.Series(village_ids[pv]) + "JC" + pd.Series(np.tile(np.arange(npv) + 1, nv)).map("{:05d}".format)
                  ).to_numpy(dtype=object)
    ids = _id_numbers(rng, n_p)
    names = _names(rng, n_p)
    # HOME-MULTI: 2 % of parcels go to the owner of another parcel (a fifth of them in another village)
    multi = np.flatnonzero(rng.random(n_p) < 0.02)
    far = rng.random(len(multi)) < 0.2
    src = np.where(far, rng.integers(0, n_p, len(multi)), np.clip(multi + rng.integers(1, 40, len(multi)), 0, n_p - 1))
    ids[multi], names[multi] = ids[src], names[src]
    household = np.where(rng.random(n_p) < 0.4, pd.Series(village_ids[pv]).str[-6:] +
                         pd.Series(np.arange(n_p)).map("{:06d}".format), None).astype(object)
    household[multi] = None
    approved = rng.random(n_p) < 0.55
    approved_date = pd.to_datetime("1985-01-01") + pd.to_timedelta(rng.integers(0, 40 * 365, n_p), unit="D")
    approved_date = pd.Series(approved_date).where(approved)
    replaced = np.flatnonzero(rng.random(n_p) < 0.005)   # HOME-OLD candidates
    replaced_by = np.full(n_p, None, dtype=object)
    replaced_by[replaced] = parcel_ids[np.clip(replaced + 1, 0, n_p - 1)]
    completed = pd.Series(pd.NaT, index=range(n_p), dtype="datetime64[ns]")
    completed.iloc[replaced] = pd.to_datetime("2022-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, len(replaced)), unit="D")
    # HOME-PBF: a third of the southmost parcels reach 6 m past the settlement onto the field below
    south = (np.tile(pr, nv) == 0) & (rng.random(n_p) < 0.33)
    pbottom = np.where(south, py0 - 26.0, py0)
    parcels_geom = shapely.box(px0, pbottom, px0 + pw, py0 + ph)
    layers["parcels"] = _frame({
        "parcel_id": parcel_ids, "village_id": village_ids[pv], "owner_name": names, "owner_id": ids,
        "household_id": household, "approved_date": approved_date,
        "approved_area_m2": np.where(approved, np.round(pw * ph, 1), np.nan),
        "replaced_by": replaced_by, "new_house_completed": completed}, parcels_geom)

    # main houses: north side of the parcel, 1.0–1.8 m from the sides
    sl, sr = rng.uniform(1.0, 1.8, n_p), rng.uniform(1.0, 1.8, n_p)
    rear = rng.uniform(1.0, 1.6, n_p)
    depth = rng.uniform(5.5, 7.5, n_p)
    bx0, bx1 = px0 + sl, px0 + pw - sr
    by1 = py0 + ph - rear
    by0 = by1 - depth
    full = rng.random(n_p) < 0.02                         # HOME-COVER: the house fills the parcel
    bx0 = np.where(full, px0 + 0.4, bx0)
    bx1 = np.where(full, px0 + pw - 0.4, bx1)
    by0 = np.where(full, py0 + 0.5, by0)
    by1 = np.where(full, py0 + ph - 0.4, by1)
    out = rng.random(n_p) < 0.03                          # SET-OUTSIDE: over the rear edge
    by1 = np.where(out, py0 + ph + rng.uniform(0.3, 2.0, n_p), by1)
    merge = rng.random(n_p) < 0.01                        # HOME-MERGE: over the east neighbour
    bx1 = np.where(merge & (pc.repeat(1)[np.arange(n_p) % npv] < P_COLS - 1), px0 + pw + 6.0, bx1)
    floors = rng.choice([1, 2, 3], n_p, p=[0.70, 0.28, 0.02])
    roof = np.where(rng.random(n_p) < 0.7, "pitched", "flat").astype(object)
    eave = np.where(floors == 1, rng.uniform(2.9, 3.45, n_p), rng.uniform(6.0, 7.1, n_p))
    high = rng.random(n_p) < 0.02
    eave = np.where(high, eave + 1.0, eave)                                         # HOME-HEIGHT
    # pitched roofs rise from the eave at a slope: 26–30° as 附件2 五(四) asks, 3 % outside it (HOME-ROOF); the
    # ridge follows from the slope over half the footprint's short side, a two-floor eave lowered where the
    # ridge would pass the two-floor ridge limit (8.6 m), so HOME-HEIGHT keeps its own planted cases only
    # (drawn from a generator of their own, so the rest of the district is what it was before roofs had slopes)
    rr = np.random.default_rng([n_p, 26])
    eave = np.round(eave, 1)
    short = np.minimum(bx1 - bx0, by1 - by0)
    off = rr.random(n_p) < 0.03
    slope = np.where(off, np.where(rr.random(n_p) < 0.5, rr.uniform(18, 24, n_p), rr.uniform(32, 38, n_p)),
                     rr.uniform(27.0, 29.0, n_p))
    rise = np.tan(np.radians(slope)) * short / 2
    eave = np.where((roof == "pitched") & (floors >= 2) & ~high, np.minimum(eave, np.floor((8.5 - rise) * 10) / 10), eave)
    ridge = np.where(roof == "pitched", np.round(eave + rise, 2), np.nan)
    approval_ids = np.where(approved & (approved_date.dt.year.to_numpy() >= 2019),
                            pd.Series(np.arange(n_p)).map("ZJ-{:07d}".format), None).astype(object)
    built = np.where(approved, approved_date.dt.year.fillna(2000).to_numpy() + rng.integers(0, 3, n_p),
                     rng.integers(1990, 2019, n_p)).clip(1990, 2025)
    houses = dict(floors=floors, basement=rng.random(n_p) < 0.01, roof=roof, eave_height_m=np.round(eave, 1),
                  ridge_height_m=ridge, downspout=rng.random(n_p) < 0.4,
                  row_house=np.zeros(n_p, dtype=bool), owner_id=ids, approval_id=approval_ids,
                  built_year=built, use=np.full(n_p, "residential", dtype=object))
    main_geom = shapely.box(bx0, by0, bx1, by1)
    # side buildings in a quarter of the parcels
    side = np.flatnonzero(rng.random(n_p) < 0.25)
    sx1 = px0[side] + pw[side] - rng.uniform(1.0, 1.5, len(side))
    sy = py0[side] + 1.0
    side_geom = shapely.box(sx1 - 3.0, sy, sx1, sy + 3.0)
    # houses in the fields: 25 per village on farmland cells, a third of them approved
    farm_cells = np.flatnonzero(is_farm[: len(cells)])
    n_f = 25 * nv
    pick = rng.choice(farm_cells, n_f, replace=len(farm_cells) < n_f)
    fx = lx0[pick] + rng.uniform(5, CELL_W - 20, n_f)
    fy = ly0[pick] + rng.uniform(5, CELL_H - 20, n_f)
    fs = rng.uniform(6, 14, n_f)
    field_geom = shapely.box(fx, fy, fx + fs, fy + fs)
    field_approved = rng.random(n_f) < 0.33

    def rep(values, idx):
        return np.asarray(values)[idx]

    b_geoms = np.concatenate([main_geom, side_geom, field_geom])
    nb = len(b_geoms)
    building = {
        "building_id": np.array([f"FW{i + 1:08d}" for i in range(nb)], dtype=object),
        "floors": np.concatenate([houses["floors"], np.ones(len(side), int), rng.choice([1, 2], n_f)]),
        "basement": np.concatenate([houses["basement"], np.zeros(len(side), bool), np.zeros(n_f, bool)]),
        "roof": np.concatenate([houses["roof"], np.full(len(side), "flat", dtype=object),
                                np.full(n_f, "flat", dtype=object)]),
        "eave_height_m": np.concatenate([houses["eave_height_m"], np.full(len(side), 3.0), np.full(n_f, 3.2)]),
        "ridge_height_m": np.concatenate([houses["ridge_height_m"], np.full(len(side), np.nan), np.full(n_f, np.nan)]),
        "downspout": np.concatenate([houses["downspout"], np.zeros(len(side), bool), np.zeros(n_f, bool)]),
        "row_house": np.zeros(nb, dtype=bool),
        "owner_id": np.concatenate([ids, rep(ids, side), np.full(n_f, None, dtype=object)]),
        "approval_id": np.concatenate([approval_ids, rep(approval_ids, side),
                                       np.where(field_approved, pd.Series(np.arange(n_f)).map("JS-{:06d}".format),
                                                None).astype(object)]),
        "built_year": np.concatenate([built, rep(built, side), rng.integers(2010, 2026, n_f)]),
        "use": np.concatenate([houses["use"], np.full(len(side), "ancillary", dtype=object),
                               np.where(rng.random(n_f) < 0.5, "residential", "storage").astype(object)]),
    }
    layers["buildings"] = _frame(building, b_geoms)
    layers["buildings"]["built_year"] = pd.array(layers["buildings"]["built_year"], dtype="Int64")

    # ---- approvals ------------------------------------------------------------------------------
    hs = np.flatnonzero(approval_ids != None)  # noqa: E711 - element-wise
    ind = np.flatnonzero(base_codes[: len(cells)] == "0601")
    fa = np.flatnonzero(field_approved)
    temp = np.flatnonzero(~field_approved)[: max(1, n_f // 50)]
    ap_geoms = np.concatenate([parcels_geom[hs], cells[ind], shapely.buffer(field_geom[fa], 1.0, join_style="mitre"),
                               shapely.buffer(field_geom[temp], 1.0, join_style="mitre")])
    layers["approvals"] = _frame({
        "approval_id": np.concatenate([approval_ids[hs], [f"GY-{i:06d}" for i in range(len(ind))],
                                       pd.Series(fa).map("JS-{:06d}".format).to_numpy(dtype=object),
                                       [f"LS-{i:05d}" for i in range(len(temp))]]).astype(object),
        "kind": np.concatenate([np.full(len(hs), "homestead"), np.full(len(ind), "construction"),
                                np.full(len(fa), "construction"), np.full(len(temp), "temporary")]).astype(object),
        "approved_area_m2": np.round(shapely.area(ap_geoms), 1),
        "valid_until": pd.Series(pd.NaT, index=range(len(ap_geoms)), dtype="datetime64[ns]").where(
            np.arange(len(ap_geoms)) < len(ap_geoms) - len(temp), pd.Timestamp("2025-06-30")),
    }, ap_geoms)

    # ---- spanning layers ------------------------------------------------------------------------
    W, H = cols * VILLAGE, rows * VILLAGE
    m = max(2, redline_vertices // 2)
    t = np.linspace(0.0, 1.0, m)
    x = X0 - 200 + t * (W + 400)
    centre = Y0 + H * (0.15 + 0.7 * t) + 0.08 * H * np.sin(t * 9.0)
    wig = 35 * np.sin(x / 97.0) + 12 * np.sin(x / 23.0) + rng.normal(0, 2.0, m)
    half = 260 + 80 * np.sin(t * 23.0)
    lower = np.column_stack([x, centre - half + wig])
    upper = np.column_stack([x[::-1], (centre + half + wig * 0.7)[::-1]])
    redline = shapely.make_valid(shapely.Polygon(np.concatenate([lower, upper])))
    layers["eco_redline"] = _frame({"name": np.array(["生态保护红线"], dtype=object)}, [redline])
    rx = X0 + W * np.array([0.2, 0.55, 0.85])
    ry = Y0 + H * np.array([0.7, 0.3, 0.8])
    reserves = shapely.buffer(shapely.points(rx, ry), min(W, H) * 0.08, quad_segs=500)
    layers["nature_reserves"] = _frame({"name": np.array(["自然保护地甲", "自然保护地乙", "自然保护地丙"], dtype=object),
                                        "zone": np.array(["core", "general", "general"], dtype=object)}, reserves)
    # roads along the village grid (lines with a width), a river, zones, cemeteries
    gx = X0 + np.arange(cols + 1) * VILLAGE
    gy = Y0 + np.arange(rows + 1) * VILLAGE
    road_lines = np.concatenate([shapely.linestrings(np.stack([np.column_stack([np.full(2, x0), [Y0, Y0 + H]])
                                                               for x0 in gx])),
                                 shapely.linestrings(np.stack([np.column_stack([[X0, X0 + W], np.full(2, y0)])
                                                               for y0 in gy]))])
    grade = np.where(np.arange(len(road_lines)) % 4 == 0, "provincial", "county").astype(object)
    vroad = shapely.linestrings(np.stack([np.column_stack([[sx0[i] + 150, sx0[i] + 150],
                                                           [sy0[i] - 2 * CELL_H, sy0[i]]]) for i in range(nv)]))
    layers["roads"] = _frame({
        "road_id": np.array([f"R{i:05d}" for i in range(len(road_lines) + nv)], dtype=object),
        "grade": np.concatenate([grade, np.full(nv, "village", dtype=object)]),
        "width_m": np.concatenate([np.where(grade == "provincial", 12.0, 8.0), np.full(nv, 4.5)])},
        np.concatenate([road_lines, vroad]))
    rt = np.linspace(0, 1, 2000)
    river_line = shapely.linestrings(X0 + rt * W, Y0 + H * (0.5 + 0.1 * np.sin(rt * 12)))
    river = shapely.buffer(river_line, 15.0, cap_style="flat")
    layers["waters"] = _frame({"name": np.array(["泃河"], dtype=object), "kind": np.array(["river"], dtype=object)},
                              [river])
    layers["protected_zones"] = _frame({
        "name": np.array(["泃河水源保护区", "文物保护范围"], dtype=object),
        "kind": np.array(["water_source", "relic"], dtype=object)},
        [shapely.buffer(river_line, 200.0, cap_style="flat"),
         shapely.buffer(shapely.Point(X0 + W * 0.4, Y0 + H * 0.6), 400.0, quad_segs=64)])
    other = np.flatnonzero(np.isin(base_codes[: len(cells)], ["0301", "0305", "0404"]))
    _, first = np.unique(lv[other], return_index=True)
    cem = other[first]
    cg = shapely.box(lx0[cem] + 10, ly0[cem] + 10, lx0[cem] + 40, ly0[cem] + 50)
    layers["cemeteries"] = _frame({"cemetery_id": np.array([f"GM{i:04d}" for i in range(len(cem))], dtype=object),
                                   "name": np.array([f"公墓{i}" for i in range(len(cem))], dtype=object)}, cg)
    return layers


def generate(out_dir: str | Path, n_villages: int, seed: int = 0, redline_vertices: int = 200_000) -> Path:
    """Build the district and write ``district.gpkg``, ``landguard.toml`` and ``meta.json`` into ``out_dir``.

    Returns
    -------
    pathlib.Path
        The ``landguard.toml``.

    Examples
    --------
    >>> import tempfile
    >>> generate(tempfile.mkdtemp(), 2).name
    'landguard.toml'
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    layers = build(n_villages, seed, redline_vertices)
    built = time.perf_counter() - started
    gpkg = out / "district.gpkg"
    gpkg.unlink(missing_ok=True)
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, gpkg, layer=name, driver="GPKG")
    lines = ["[project]", f'name = "benchmark district-{n_villages}"', 'as_of = "2026-11-22"',
             'working_crs = "EPSG:4548"', ""]
    for name in layers:
        lines += [f"[layers.{name}]", 'path = "district.gpkg"', f'layer = "{name}"', ""]
    toml = out / "landguard.toml"
    toml.write_text("\n".join(lines), encoding="utf-8")
    meta = {"villages": n_villages, "seed": seed, "counts": {k: int(len(v)) for k, v in layers.items()},
            "eco_redline_vertices": int(shapely.get_num_coordinates(layers["eco_redline"].geometry.to_numpy()).sum()),
            "build_seconds": round(built, 2), "total_seconds": round(time.perf_counter() - started, 2)}
    (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return toml


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=300, help="number of villages (300 = district-L)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default benchmarks/data/district-N)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--redline-vertices", type=int, default=200_000)
    args = ap.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / "data" / f"district-{args.villages}"
    toml = generate(out, args.villages, args.seed, args.redline_vertices)
    meta = json.loads((toml.parent / "meta.json").read_text(encoding="utf-8"))
    print(json.dumps(meta, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
