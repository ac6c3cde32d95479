"""Nothing leaked: no output of ``check`` embeds the user's file paths or an ID number in clear."""

from __future__ import annotations

import re
import sqlite3

from tests.badinput.helpers import base_layers, ok, run_check, write_district
from tests.builders import frame, square

ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
OWNERS = ["11010519491231002X", "110105195001010039"]


def test_outputs_hold_no_input_path_and_no_clear_id_number(tmp_path):
    layers = base_layers()
    # the same owner (one with an invalid ID number) on two parcels: HOME-MULTI findings and a quality list
    layers["parcels"] = frame([
        {"parcel_id": "P1", "owner_name": "张三", "owner_id": OWNERS[0], "geometry": square(-100, 0, 20)},
        {"parcel_id": "P2", "owner_name": "张三", "owner_id": OWNERS[0], "geometry": square(-60, 0, 20)},
        {"parcel_id": "P3", "owner_name": "李四", "owner_id": OWNERS[1], "geometry": square(-200, 0, 20)},
        {"parcel_id": "P4", "owner_name": "王五", "owner_id": "110105195001010031", "geometry": square(-300, 0, 20)}])
    layers["buildings"] = layers["buildings"].assign(owner_id=[OWNERS[0], OWNERS[1], OWNERS[0]])
    secret = tmp_path / "张三的电脑" / "平谷区数据"
    data = write_district(secret, layers, buildings="房屋.shp")
    (secret / "landguard.toml").write_text(
        "".join(f'[layers.{r}]\npath = "{r}.gpkg"\n' for r in ("villages", "parcels", "landuse"))
        + f'[layers.buildings]\npath = "{secret / "房屋.shp"}"\n', encoding="utf-8")
    out = tmp_path / "out"
    res = run_check(data, out, rules=())                             # every rule
    ok(res)
    assert (out / "summary.json").read_text(encoding="utf-8").count("HOME-MULTI") >= 1
    paths = [str(tmp_path), str(secret), "张三的电脑", "平谷区数据", str(secret / "房屋.shp")]
    for name in ("findings.gpkg", "summary.json", "summary.txt"):
        raw = (out / name).read_bytes()
        for p in paths:
            for enc in ("utf-8", "utf-16-le", "gbk"):
                assert p.encode(enc) not in raw, (name, p, enc)
        for owner in OWNERS + ["110105195001010031"]:
            assert owner.encode() not in raw and owner.encode("utf-16-le") not in raw, (name, owner)
    for name in ("summary.json", "summary.txt"):
        text = (out / name).read_text(encoding="utf-8")
        assert not ID_NUMBER.search(text), (name, ID_NUMBER.search(text).group())
    con = sqlite3.connect(out / "findings.gpkg")
    try:
        tables = [t for (t,) in con.execute("select name from sqlite_master where type='table'")]
        for t in tables:
            for row in con.execute(f'select * from "{t}"'):
                for v in row:
                    if isinstance(v, str):
                        assert not ID_NUMBER.search(v), (t, v)
                        assert str(tmp_path) not in v, (t, v)
    finally:
        con.close()
