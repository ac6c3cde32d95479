"""Session fixtures: the generated sample district and one check over it, shared by the end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """The sample district generated once per test session (seed 0)."""
    from landguard.sample import generate_sample

    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, seed=0)
    return out


@pytest.fixture(scope="session")
def sample_check(sample_dir, tmp_path_factory):
    """``check`` run once over the sample district; its result (findings, outcomes, district, paths)."""
    from landguard.pipeline import check

    out = tmp_path_factory.mktemp("check") / "out"
    return check(config=sample_dir / "landguard.toml", out=out)


@pytest.fixture(scope="session")
def truth(sample_dir):
    """The sample's truth table."""
    import pandas as pd

    return pd.read_csv(sample_dir / "truth.csv", dtype=str, keep_default_na=False)
