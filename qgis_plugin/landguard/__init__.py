"""QGIS plugin entry point: ``classFactory`` as QGIS's plugin manager expects."""

__all__ = ["classFactory"]


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """The plugin object QGIS loads.

    Examples
    --------
    >>> # QGIS calls classFactory(iface) when the plugin is enabled
    """
    from .plugin import LandguardPlugin

    return LandguardPlugin(iface)
