"""The plugin: registers the landguard Processing provider while enabled."""

from qgis.core import QgsApplication

from .provider import LandguardProvider

__all__ = ["LandguardPlugin"]


class LandguardPlugin:
    """Adds :class:`LandguardProvider` to the Processing registry (and removes it on unload).

    Examples
    --------
    >>> # LandguardPlugin(iface).initProcessing()
    """

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS's name)
        self.provider = LandguardProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
