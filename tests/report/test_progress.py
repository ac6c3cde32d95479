"""Progress bars: done/total and time left when the total is known, never 'None'."""

import io

from landguard.cli.progress import progress_reporter


def _draw(total, steps, add=None):
    out = io.StringIO()
    with progress_reporter(total=total, file=out, force_terminal=True) as step:
        for i in range(steps):
            if add is not None and i == 1:
                step.add_total(add)
            step(f"规则 R{i}")
            step._bar.refresh()
        last = out.getvalue()
    return step, last


def test_known_total_shows_done_of_total():
    step, text = _draw(4, 3)
    assert "3/4" in text and "None" not in text and "规则 R2" in text
    assert (step.done, step.total) == (3, 4)


def test_unknown_total_shows_steps_not_none():
    step, text = _draw(None, 2)
    assert "2 步" in text and "None" not in text and step.total is None


def test_announced_total_is_used_and_grows_when_exceeded():
    step, text = _draw(None, 3, add=2)
    assert step.total == 3 and "3/3" in text                       # 2 announced, a third step came: 3/3
    assert "None" not in text


def test_quiet_draws_nothing_but_counts():
    with progress_reporter(quiet=True, total=2) as step:
        step("a")
    assert (step.done, step.total) == (1, 2)


# --------------------------------------------------------------------------------------------------
# the pipeline announces its totals: check (layers read, layers assigned, rules), maps and exports (villages)
# --------------------------------------------------------------------------------------------------
from landguard.cli.progress import Step  # noqa: E402


class _Recording(Step):
    """A Step that records, at every step, whether the step was announced beforehand."""

    def __init__(self):
        super().__init__()
        self.unannounced: list[str] = []
        self.added: list[int] = []
        self.texts: list[str] = []

    def add_total(self, n):
        self.added.append(int(n))
        super().add_total(n)

    def __call__(self, text):
        if self.total is None or self.done + 1 > self.total:
            self.unannounced.append(str(text))
        self.texts.append(str(text))
        super().__call__(text)


def test_check_announces_every_step_before_it_comes(sample_dir, tmp_path):
    from analyses.registry import CATALOGUE
    from landguard.pipeline import check

    step = _Recording()
    result = check(config=sample_dir / "landguard.toml", out=tmp_path / "out", progress=step, jobs=1)
    assert step.unannounced == [] and step.done == step.total        # never "n/None", never past the total
    assert len(CATALOGUE) in step.added                              # one step per rule, announced once
    loading = [t for t in step.texts if t.startswith(("读取 ", "分配行政村 "))]
    assert step.added[0] == len(loading) > len(result.district.layers)  # reading and assigning, announced at once
    _, text = _draw(step.total, 2)
    assert f"2/{step.total}" in text and "None" not in text


def test_check_with_two_processes_announces_its_chunks(sample_dir, tmp_path):
    from landguard.pipeline import check

    step = _Recording()
    check(config=sample_dir / "landguard.toml", out=tmp_path / "out", progress=step, jobs=2,
          rules=["FARM-BUILD", "HOME-MULTI"])
    assert step.unannounced == [] and step.done == step.total


def test_maps_and_exports_announce_one_step_per_village(sample_check, tmp_path):
    from landguard.pipeline import write_exports, write_maps

    ids = sample_check.district.villages["village_id"].astype(str).tolist()[:3]
    for write in (write_maps, write_exports):
        step = _Recording()
        write(sample_check.district, sample_check.findings, tmp_path / write.__name__, villages=ids,
              progress=step, jobs=1)
        assert step.added[0] == 3 and step.unannounced == [] and step.done == step.total >= 3
