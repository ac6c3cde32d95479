"""The sample district (``landguard sample --out DIR``): a fictitious but realistic piece of Pinggu with
planted violations and near misses, and a ``truth.csv`` that says which is which.

Modules: :mod:`.base` (clean geography), :mod:`.people` (names, GB 11643 ID numbers),
:mod:`.model` (the in-memory :class:`~.model.Sample`, :class:`~.model.Plant`, truth rows),
``plant_<family>`` (one ``plant_<rule>`` function per rule, each returning the features it added or
changed and its truth rows; see their docstrings for how to add one), :mod:`.rasters`, :mod:`.write`
and :mod:`.generate` (``PLANTERS``, the order they run in).
"""

from __future__ import annotations

from .generate import generate_sample

__all__ = ["generate_sample"]
