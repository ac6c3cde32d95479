"""What people look at and carry: offline village maps, the index page and field exports.

The submodules are imported when first used (PEP 562), so that ``landguard check`` - which needs only
:mod:`maps.qgis_style` for the findings' QGIS styles - does not pay for folium and the map templates.
"""

from importlib import import_module

__all__ = ["render_village_map", "render_index", "BASEMAPS", "DEFAULT_BASEMAPS", "basemap_layers",
           "resolve_tianditu_tk", "export_geojson", "export_gpkg", "export_kml", "export_village"]

_WHERE = {"BASEMAPS": "basemaps", "DEFAULT_BASEMAPS": "basemaps", "basemap_layers": "basemaps",
          "resolve_tianditu_tk": "basemaps", "export_geojson": "exports", "export_gpkg": "exports",
          "export_kml": "exports", "export_village": "exports", "render_index": "index",
          "render_village_map": "village"}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
