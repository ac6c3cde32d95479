"""Processing provider ``landguard`` with the algorithms check, maps, export and verify."""

from qgis.core import QgsProcessingProvider

from .algorithms import CheckAlgorithm, ExportAlgorithm, MapsAlgorithm, VerifyAlgorithm

__all__ = ["LandguardProvider"]


class LandguardProvider(QgsProcessingProvider):
    """The ``landguard`` provider of QGIS's Processing toolbox.

    Examples
    --------
    >>> # QgsApplication.processingRegistry().addProvider(LandguardProvider())
    """

    def loadAlgorithms(self):  # noqa: N802 (QGIS's name)
        for alg in (CheckAlgorithm(), MapsAlgorithm(), ExportAlgorithm(), VerifyAlgorithm()):
            self.addAlgorithm(alg)

    def id(self):
        return "landguard"

    def name(self):
        return "landguard"

    def longName(self):  # noqa: N802
        return "landguard 耕地与宅基地检查"
