"""What people look at and carry: offline village maps, the index page and field exports."""

from .basemaps import BASEMAPS, DEFAULT_BASEMAPS, basemap_layers, resolve_tianditu_tk
from .exports import export_geojson, export_gpkg, export_kml, export_village
from .index import render_index
from .village import render_village_map

__all__ = ["render_village_map", "render_index", "BASEMAPS", "DEFAULT_BASEMAPS", "basemap_layers",
           "resolve_tianditu_tk", "export_geojson", "export_gpkg", "export_kml", "export_village"]
