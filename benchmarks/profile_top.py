"""Summarise a py-spy speedscope profile: where a landguard run spends its time.

    py-spy record --rate 50 --format speedscope -o prof.json -- python -m landguard check --jobs 1 ...
    python benchmarks/profile_top.py prof.json --top 15

Prints, in seconds of samples (summed over every profiled process/thread):

* the top functions by *inclusive* time (the function or anything it calls), project code only;
* the top functions by *self* time (the frame on top of the stack, any code: GEOS calls show as the shapely
  function that entered them);
* per rule: the inclusive time under each rule function of ``analyses/`` called by the runner;
* with ``--under NAME``: the same inclusive tally restricted to samples whose stack holds function ``NAME``
  (e.g. ``--under farm_redline``), with the source line of each frame, to see inside one rule.

Examples
--------
>>> prof = {"shared": {"frames": [{"name": "main", "file": "landguard/cli.py", "line": 1},
...                               {"name": "intersection", "file": "shapely/set_operations.py", "line": 2}]},
...         "profiles": [{"type": "sampled", "unit": "seconds", "samples": [[0, 1], [0], [0, 1]],
...                       "weights": [0.02, 0.02, 0.02]}]}
>>> inc, own = tally(prof)
>>> round(inc[("main", "landguard/cli.py")], 2), round(own[("intersection", "shapely/set_operations.py")], 2)
(0.06, 0.04)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

__all__ = ["tally", "under", "main"]

_PROJECT = ("landguard/", "analyses/", "layers/", "spatial/", "maps/")


def tally(profile: dict) -> tuple[Counter, Counter]:
    """Inclusive and self seconds per ``(function, file)`` of a speedscope ``sampled`` profile.

    A function that is on a stack twice (recursion) counts once for that sample.
    """
    frames = profile["shared"]["frames"]
    keys = [(f["name"], f.get("file") or "") for f in frames]
    inclusive, own = Counter(), Counter()
    for prof in profile["profiles"]:
        unit = 1.0 if prof.get("unit", "seconds") == "seconds" else 1e-3
        for stack, w in zip(prof["samples"], prof["weights"]):
            if not stack:
                continue
            for k in {keys[i] for i in stack}:
                inclusive[k] += w * unit
            own[keys[stack[-1]]] += w * unit
    return inclusive, own


def under(profile: dict, name: str) -> Counter:
    """Inclusive seconds per ``(function, file, line)`` in the samples whose stack holds function ``name``,
    counting only the frames above (called from) its outermost occurrence."""
    frames = profile["shared"]["frames"]
    tally_ = Counter()
    for prof in profile["profiles"]:
        for stack, w in zip(prof["samples"], prof["weights"]):
            pos = next((i for i, f in enumerate(stack) if frames[f]["name"] == name), None)
            if pos is None:
                continue
            for k in {(frames[i]["name"], frames[i].get("file") or "", frames[i].get("line")) for i in stack[pos:]}:
                tally_[k] += w
    return tally_


def _short(file: str) -> str:
    for marker in ("site-packages/",) + _PROJECT:
        if marker in file:
            return (marker if marker != "site-packages/" else "") + file.split(marker, 1)[1]
    return file


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--under", default=None, help="only samples inside this function, by source line")
    args = ap.parse_args(argv)
    prof = json.loads(args.profile.read_text(encoding="utf-8"))
    if args.under:
        for (name, file, line), v in under(prof, args.under).most_common(args.top):
            print(f"  {v:7.2f} s  {name}  ({_short(file)}:{line})")
        return 0
    inclusive, own = tally(prof)
    total = sum(sum(p["weights"]) for p in prof["profiles"])
    print(f"samples: {total:.1f} s")
    print("\ninclusive, project code:")
    project = [(k, v) for k, v in inclusive.items() if any(m in k[1] for m in _PROJECT)]
    for (name, file), v in sorted(project, key=lambda kv: -kv[1])[:args.top]:
        print(f"  {v:7.2f} s  {name}  ({_short(file)})")
    print("\nself:")
    for (name, file), v in own.most_common(args.top):
        print(f"  {v:7.2f} s  {name}  ({_short(file)})")
    print("\nrule functions (analyses/, inclusive):")
    rules = [(k, v) for k, v in inclusive.items() if "analyses/" in k[1] and not k[0].startswith("_")
             and k[0] not in ("run_rules", "run_rule")]
    for (name, file), v in sorted(rules, key=lambda kv: -kv[1])[:args.top]:
        print(f"  {v:7.2f} s  {name}  ({_short(file)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
