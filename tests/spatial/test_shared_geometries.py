"""Geometries shared between threads: prepared and freed by one thread at a time, or copied first.

The villages are shared by the threads that place each layer in its village (``layers.district``);
``covering`` prepared them and destroyed the prepared form again while another thread was reading it
(a segmentation fault in CI, 2026-12-02).
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import shapely

from spatial.overlay import covered_intersection, covering, prepared_copies

ROOT = Path(__file__).resolve().parents[2]


def test_covering_leaves_the_callers_geometries_as_they_were():
    parcel, house, other = shapely.box(0, 0, 10, 10), shapely.box(2, 2, 5, 5), shapely.box(8, 8, 12, 12)
    shapely.prepare(other)                      # prepared before: stays prepared
    left, right = np.array([parcel, other], dtype=object), np.array([house, parcel], dtype=object)
    l_cov, r_cov = covering(left, right, np.array([0, 0, 1]), np.array([0, 1, 1]))
    assert l_cov.tolist() == [True, True, False] and r_cov.tolist() == [False, False, False]
    assert shapely.is_prepared(left).tolist() == [False, True]
    assert shapely.is_prepared(right).tolist() == [False, False]


def test_prepared_copies_keep_every_coordinate_and_z():
    g = np.array([shapely.Polygon([(0.1, 0.2, 3.3), (1e7 + 0.123456789, 0.2, 4.4), (0.1, 5.5, 5.5)]),
                  shapely.LineString([(0, 0), (1 / 3, 2 / 3)]), None, shapely.Polygon()], dtype=object)
    c = prepared_copies(g)
    assert c[0] is not g[0] and c[1] is not g[1]
    assert shapely.equals_identical(c[[0, 1, 3]], g[[0, 1, 3]]).all() and c[2] is None
    assert shapely.has_z(c[0]) and shapely.is_prepared(c[[0, 1, 3]]).all()
    assert not shapely.is_prepared(g[[0, 1, 3]]).any()


def test_covered_intersection_returns_the_originals_for_covered_pairs():
    parcel, house = shapely.box(0, 0, 10, 10), shapely.box(2, 2, 5, 5)
    out = covered_intersection([parcel], [house], np.array([0]), np.array([0]))
    assert out[0] is house                    # the caller's object, not a private copy


def test_assign_villages_leaves_the_villages_unprepared():
    import geopandas as gpd

    from layers.district import assign_villages
    villages = gpd.GeoDataFrame({"village_id": ["a", "b"]}, geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
                                crs="EPSG:4547")
    got = assign_villages(np.array([shapely.box(8, 1, 11, 2), shapely.box(9.5, 1, 14, 2)]), villages)
    assert got.tolist() == ["a", "b"]
    assert not shapely.is_prepared(villages.geometry.to_numpy()).any()


def test_threads_sharing_villages_do_not_crash():
    # Four threads test small boxes against one shared array of detailed polygons, as the layer threads
    # do against the villages. With the old prepare/destroy on shared objects this died of SIGSEGV
    # in every one of ten runs within 0.2 s; run in a child so a crash is a failure, not a dead suite.
    script = textwrap.dedent("""
        import threading, numpy as np, shapely
        from spatial.overlay import covering, covered_intersection
        villages = np.array([shapely.Point(x, y).buffer(50, quad_segs=64)
                             for x in range(0, 1000, 100) for y in range(0, 1000, 100)], dtype=object)
        errors = []
        def work(seed):
            rng = np.random.default_rng(seed)
            try:
                for _ in range(30):
                    p = rng.uniform(0, 1000, (2000, 2))
                    boxes = shapely.box(p[:, 0], p[:, 1], p[:, 0] + 3, p[:, 1] + 3)
                    ri = rng.integers(0, len(villages), len(boxes))
                    covering(boxes, villages, np.arange(len(boxes)), ri)
                    covered_intersection(boxes, villages, np.arange(len(boxes)), ri)
            except Exception as e:
                errors.append(repr(e))
        threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        [t.start() for t in threads]; [t.join() for t in threads]
        assert not errors, errors
        assert not shapely.is_prepared(villages).any()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == "ok"
