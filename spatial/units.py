"""Area units: square metres and 亩 (mu)."""

from __future__ import annotations

import numpy as np

__all__ = ["M2_PER_MU", "m2_to_mu", "mu_to_m2"]

#: One 亩 is exactly 10000/15 m² (≈ 666.67 m²).
M2_PER_MU: float = 10000.0 / 15.0


def m2_to_mu(area_m2):
    """Convert square metres to 亩 (scalars stay scalars, arrays stay arrays).

    Examples
    --------
    >>> float(m2_to_mu(1000.0))
    1.5
    """
    return np.divide(area_m2, M2_PER_MU)[()] if np.ndim(area_m2) == 0 else np.asarray(area_m2, dtype=float) / M2_PER_MU


def mu_to_m2(area_mu):
    """Convert 亩 to square metres.

    Examples
    --------
    >>> round(float(mu_to_m2(5)), 2)
    3333.33
    """
    return np.multiply(area_mu, M2_PER_MU)[()] if np.ndim(area_mu) == 0 else np.asarray(area_mu, dtype=float) * M2_PER_MU
