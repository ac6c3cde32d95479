"""Every error and warning landguard raises.

One root, :class:`LandguardError`; each subclass also inherits the builtin it
resembles, so ``except ValueError`` keeps working for callers who do not know us.
Messages are one line and name the file, layer, column or key at fault and what
would be right.
"""

from __future__ import annotations

__all__ = [
    "LandguardError",
    "ConfigError",
    "LayerError",
    "CRSError",
    "RasterError",
    "OutputError",
    "DataQualityWarning",
]


class LandguardError(Exception):
    """Root of every error landguard raises on purpose."""


class ConfigError(LandguardError, ValueError):
    """A configuration file or key is wrong (names the file and the key)."""


class LayerError(LandguardError, ValueError):
    """An input layer cannot be used (names the file, layer or column)."""


class CRSError(LandguardError, ValueError):
    """A coordinate reference system is missing or does not fit the data."""


class RasterError(LandguardError, ValueError):
    """A raster input cannot be used (names the file)."""


class OutputError(LandguardError, OSError):
    """An output cannot be written (names the path)."""


class DataQualityWarning(UserWarning):
    """Something in the data was repaired or dropped; counted in the data-quality report."""
