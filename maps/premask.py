"""Mask a district layer once, hand out any village's rows of it: the same as masking those rows.

Maps and field files show each village's rows of the district's layers, masked
(:func:`layers.privacy.mask_frame`). Masking every village's slice on its own costs a few hundred small
pandas string operations per village (most of the maps' and field files' time on a 300-village
district); masking the whole layer once and taking rows from it costs one pass.

Taking rows from the masked whole gives exactly ``mask_frame(frame.iloc[rows])`` because masking is
value by value, with two exceptions that depend on the rows present, handled here:

* a numeric column holding a 15- or 18-digit number becomes text (``mask_frame`` turns the whole column
  into text when *any* of its values is ID-shaped), so whether a slice's column is text depends on the slice;
* a categorical column whose masked categories collide is rebuilt from the values present.

Such columns (whose masked dtype differs from the original, and every categorical one) are masked again
from the slice's own rows. A frame whose index is not unique, or whose column names repeat, is masked
per slice as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.privacy import mask_frame

__all__ = ["MaskedRows"]


class MaskedRows:
    """``mask_frame`` of any rows of ``frame``, from one masking of the whole frame.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        The whole layer (e.g. the district's parcels).
    full_names : bool
        As for :func:`layers.privacy.mask_frame`.

    Examples
    --------
    >>> df = pd.DataFrame({"owner_name": ["张三丰", "李四"], "n": [1, 110117199001011234]})
    >>> m = MaskedRows(df)
    >>> m.take(np.array([0])).equals(mask_frame(df.iloc[[0]]))
    True
    >>> m.take(np.array([1]))["n"].tolist()
    ['110117********1234']
    """

    def __init__(self, frame: pd.DataFrame, *, full_names: bool = False) -> None:
        self.frame = frame
        self.full_names = full_names
        self._whole: pd.DataFrame | None = None
        self._again: list[tuple[str, object]] = []
        if frame.index.is_unique and frame.columns.is_unique:
            self._whole = mask_frame(frame, full_names=full_names)
            geometry = getattr(frame, "_geometry_column_name", None)
            for col, masked in zip(frame.columns, self._whole.columns):
                if col == geometry:
                    continue
                before, after = frame[col].dtype, self._whole[masked].dtype
                if isinstance(before, pd.CategoricalDtype) or before != after:
                    self._again.append((col, masked))

    def take(self, rows: np.ndarray) -> pd.DataFrame:
        """``mask_frame(frame.iloc[rows], full_names=...)``, from the masked whole.

        Parameters
        ----------
        rows : array of int
            Positions in ``frame``.
        """
        rows = np.asarray(rows, dtype=np.intp)
        if self._whole is None:
            return mask_frame(self.frame.iloc[rows], full_names=self.full_names)
        out = self._whole.iloc[rows]
        if self._again:
            out = out.copy()
            part = self.frame.iloc[rows]
            for col, masked in self._again:
                out[masked] = mask_frame(part[[col]], full_names=self.full_names).iloc[:, 0]
        return out

    def like(self, part: pd.DataFrame) -> pd.DataFrame:
        """``mask_frame(part)`` for ``part``, a slice of ``frame`` (its rows found by index label).

        Falls back to masking ``part`` itself when its labels are not all rows of ``frame``.
        """
        if self._whole is None:
            return mask_frame(part, full_names=self.full_names)
        rows = self.frame.index.get_indexer(part.index)
        if (rows < 0).any() or list(part.columns) != list(self.frame.columns):
            return mask_frame(part, full_names=self.full_names)
        return self.take(rows)
