"""``landguard rules`` lists every rule of the spec with its id, name and basis; docs/rules.md is its output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from landguard.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "RULES.md"
ABBREV = {"PG-NF": "京平政办发〔2021〕1号", "PG-4": "京平政发〔2021〕4号", "MY-6": "密政办字〔2021〕6号",
          "MTG-19": "门政发〔2019〕19号", "MTG-45": "门政办发〔2019〕45号"}
# clause references: 四(七)14, 附件2 五(四), 第七条, 三(四) …
CLAUSE = re.compile(r"附件\d+|第[一二三四五六七八九十]+条|[一二三四五六七八九十]+\([一二三四五六七八九十]+\)\d*")


def spec_rules() -> list[tuple[str, str, str]]:
    """(id, 中文, basis) of every rule row of the spec's tables."""
    rows = []
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([A-Z]+-[A-Z]+)`\s*\|\s*([^|]+?)\s*\|.*\|\s*([^|]+?)\s*\|\s*$", line)
        if m:
            rows.append(m.groups())
    return rows


def run(*args):
    result = CliRunner().invoke(cli, ["rules", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.skipif(not SPEC.exists(), reason="../shared/spec/RULES.md is beside the project in CI")
def test_every_spec_rule_is_listed_with_its_id_name_and_clauses():
    rules = spec_rules()
    assert len(rules) == 40
    text = run()
    for rule_id, name, basis in rules:
        block = text.split(f"{rule_id}  ", 1)
        assert len(block) == 2, f"{rule_id} missing from `landguard rules`"
        head = block[1].split("\n", 2)
        assert head[0].split("（尚未实现）")[0].strip() == name.strip(), rule_id
        ours = head[1]
        basis = ";".join(part for part in basis.split(";") if "do not cite" not in part)  # SET-REDLINE's warning
        for abbrev, number in ABBREV.items():
            if re.search(rf"(^|[\s;]){re.escape(abbrev)}\s", basis):
                assert number in ours, f"{rule_id}: basis should cite {number}"
        for clause in CLAUSE.findall(basis):
            assert clause in ours.replace(" ", ""), f"{rule_id}: clause {clause} missing from {ours!r}"


def test_markdown_is_docs_rules_md_and_lists_limits_with_defaults():
    md = run("--format", "markdown")
    assert md == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8"), \
        "docs/rules.md is stale: landguard rules --format markdown > docs/rules.md"
    row = next(line for line in md.splitlines() if line.startswith("| `HOME-AREA`"))
    assert "`homestead_area_m2` = 173.33 m²" in row and "宅基地超标准" in row


def test_family_filter_and_bad_rule_id_points_to_the_catalogue(tmp_path):
    text = run("--family", "siting")
    assert "SITE-CEMETERY" in text and "FARM-BUILD" not in text
    bad = CliRunner().invoke(cli, ["check", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                                   "--rule", "FARM-NOPE"])
    assert bad.exit_code == 2 and "landguard rules" in bad.output
