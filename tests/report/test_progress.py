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
