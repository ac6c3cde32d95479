"""QGIS styles that travel with the data: QML written from code into a GeoPackage's ``layer_styles`` table.

QGIS (and QField, Mergin Maps, which open QGIS projects and layers) apply the row of ``layer_styles``
marked ``useAsDefault`` when a GeoPackage layer is opened. Every GeoPackage landguard writes
(``findings.gpkg`` and the field files) gets one such row per layer (:func:`write_layer_styles`):

* symbology as on the maps: findings categorised by family and severity — the family's colour
  (:data:`maps.style.FAMILY_COLOURS`), outline width by severity (:data:`maps.style.SEVERITY_WEIGHTS`);
  context layers (parcels, buildings) in their map style (:func:`maps.style.context_style`);
* Chinese field aliases (:data:`analyses.ledger.COLUMN_LABELS`, :func:`maps.style.column_label`);
* value maps so codes read in Chinese (family, severity, status), the verification field ``verified`` as a
  drop-down of the verdicts, ``verified_on`` a date picker, ``photo`` an attachment (ExternalResource)
  widget storing paths relative to the project;
* every computed field read-only: only the verification fields are editable.

All text from the data is XML-escaped; nothing from the data becomes markup.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

from analyses.ledger import COLUMN_LABELS, SEVERITY_LABELS, STATUS_LABELS, VERDICTS, VERIFICATION_COLUMNS

from .style import FAMILY_COLOURS, FAMILY_LABELS, SEVERITY_WEIGHTS, column_label, context_style, layer_label

__all__ = ["QGIS_VERSION", "findings_qml", "layer_qml", "write_layer_styles"]

#: The QGIS version written in the QML (the oldest the bureaus run reads it; newer ones upgrade it).
QGIS_VERSION = "3.22.16-Białowieża"

_PX_TO_MM = 0.26  # the maps' outline weights are CSS pixels; QGIS symbol widths are millimetres
_VALUE_MAPS = {"family": dict(FAMILY_LABELS), "severity": dict(SEVERITY_LABELS), "status": dict(STATUS_LABELS)}


def _opt(name: str, kind: str, value) -> str:
    return f"<Option name={quoteattr(name)} type={quoteattr(kind)} value={quoteattr(str(value))}/>"


def _rgba(hex_rgb: str, alpha: int = 255) -> str:
    return f"{int(hex_rgb[1:3], 16)},{int(hex_rgb[3:5], 16)},{int(hex_rgb[5:7], 16)},{alpha}"


def _fill_symbol(name: str, fill: str, fill_alpha: int, line: str, width_mm: float, *, no_fill: bool = False,
                 dash: bool = False) -> str:
    opts = "".join([
        _opt("color", "QString", _rgba(fill, fill_alpha)), _opt("joinstyle", "QString", "round"),
        _opt("outline_color", "QString", _rgba(line)), _opt("outline_style", "QString", "dash" if dash else "solid"),
        _opt("outline_width", "QString", f"{width_mm:.2f}"), _opt("outline_width_unit", "QString", "MM"),
        _opt("style", "QString", "no" if no_fill else "solid"),
    ])
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">{opts}</Option></layer>'
            "</symbol>")


def _value_map(mapping: dict[str, str]) -> str:
    entries = "".join(f'<Option type="Map">{_opt(label, "QString", code)}</Option>' for code, label in mapping.items())
    return f'<editWidget type="ValueMap"><config><Option type="Map"><Option name="map" type="List">{entries}' \
           "</Option></Option></config></editWidget>"


_PHOTO = ('<editWidget type="ExternalResource"><config><Option type="Map">'
          + _opt("DocumentViewer", "int", 1) + _opt("FileWidget", "bool", "true")
          + _opt("FileWidgetButton", "bool", "true") + _opt("RelativeStorage", "int", 1)
          + _opt("StorageMode", "int", 0) + _opt("FileWidgetFilter", "QString", "Images (*.jpg *.jpeg *.png *.heic)")
          + "</Option></config></editWidget>")
_DATE = ('<editWidget type="DateTime"><config><Option type="Map">' + _opt("field_format", "QString", "yyyy-MM-dd")
         + _opt("display_format", "QString", "yyyy-MM-dd") + _opt("calendar_popup", "bool", "true")
         + _opt("allow_null", "bool", "true") + "</Option></config></editWidget>")
_TEXT = '<editWidget type="TextEdit"><config><Option type="Map">' + _opt("IsMultiline", "bool", "false") \
        + _opt("UseHtml", "bool", "false") + "</Option></config></editWidget>"


def _widget(column: str) -> str:
    if column == "photo":
        return _PHOTO
    if column == "verified":
        return _value_map({v: v for v in VERDICTS})
    if column == "verified_on":
        return _DATE
    if column in _VALUE_MAPS:
        return _value_map(_VALUE_MAPS[column])
    return _TEXT


def _form(columns: list[str], editable: set[str], label=None) -> str:
    """fieldConfiguration, aliases and editable flags of ``columns``."""
    label = label or (lambda c: COLUMN_LABELS.get(c, column_label(c)))
    fields = "".join(f'<field name={quoteattr(c)} configurationFlags="None">{_widget(c)}</field>' for c in columns)
    aliases = "".join(f"<alias field={quoteattr(c)} index=\"{i}\" name={quoteattr(label(c))}/>"
                      for i, c in enumerate(columns))
    flags = "".join(f'<field name={quoteattr(c)} editable="{1 if c in editable else 0}"/>' for c in columns)
    on_top = "".join(f'<field name={quoteattr(c)} labelOnTop="0"/>' for c in columns)
    return (f"<fieldConfiguration>{fields}</fieldConfiguration><aliases>{aliases}</aliases>"
            f"<editable>{flags}</editable><labelOnTop>{on_top}</labelOnTop>"
            '<editform tolerant="1"></editform><editforminit/><editforminitcodesource>0'
            "</editforminitcodesource><editorlayout>generatedlayout</editorlayout>")


def _document(renderer: str, form: str, display: str = "case_id") -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f'<qgis version={quoteattr(QGIS_VERSION)} styleCategories="AllStyleCategories" '
            'hasScaleBasedVisibilityFlag="0" readOnly="0">'
            f"{renderer}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity>"
            f"{form}<previewExpression>{_xml_text(_quote_field(display))}</previewExpression>"
            "<layerGeometryType>2</layerGeometryType></qgis>")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def findings_qml(columns: list[str]) -> str:
    """QML of a findings layer: categorised by family and severity, the field team's form.

    Parameters
    ----------
    columns : list of str
        The layer's attribute columns (geometry excluded), in order.

    Returns
    -------
    str
        A QML document (QGIS 3.22 and later).

    Examples
    --------
    >>> qml = findings_qml(["case_id", "family", "severity", "verified", "photo"])
    >>> 'type="categorizedSymbol"' in qml, 'name="耕地保护类"' in qml or "ValueMap" in qml
    (True, True)
    """
    expression = "concat(\"family\", '/', coalesce(\"severity\", 'medium'))"
    categories, symbols = [], []
    for family, colour in FAMILY_COLOURS.items():
        for severity, weight in SEVERITY_WEIGHTS.items():
            n = str(len(symbols))
            label = f"{FAMILY_LABELS.get(family, family)} · {SEVERITY_LABELS.get(severity, severity)}"
            categories.append(f'<category render="true" symbol="{n}" value={quoteattr(f"{family}/{severity}")} '
                              f"label={quoteattr(label)}/>")
            symbols.append(_fill_symbol(n, colour, 89, colour, weight * _PX_TO_MM))
    other = _fill_symbol("0", "#3182bd", 89, "#3182bd", 2.5 * _PX_TO_MM)
    renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(expression)} forceraster="0" '
                'symbollevels="0" enableorderby="0" referencescale="-1">'
                f"<categories>{''.join(categories)}</categories><symbols>{''.join(symbols)}</symbols>"
                f"<source-symbol>{other}</source-symbol><rotation/><sizescale/></renderer-v2>")
    return _document(renderer, _form(columns, set(VERIFICATION_COLUMNS) & set(columns)))


def layer_qml(role: str, columns: list[str]) -> str:
    """QML of a context layer (``parcels``, ``buildings`` …) in its map style, read-only fields, Chinese aliases.

    Parameters
    ----------
    role : str
        The layer's role (its name in the GeoPackage).
    columns : list of str
        The layer's attribute columns.

    Returns
    -------
    str

    Examples
    --------
    >>> 'type="singleSymbol"' in layer_qml("parcels", ["parcel_id", "owner_name"])
    True
    """
    s = context_style(role)
    fill = s.get("fillColor", s["color"])
    alpha = int(round(255 * float(s.get("fillOpacity", 0.2))))
    symbol = _fill_symbol("0", fill, alpha, s["color"], float(s.get("weight", 1.0)) * _PX_TO_MM,
                          no_fill=s.get("fill") is False, dash="dashArray" in s)
    renderer = ('<renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" enableorderby="0" '
                f'referencescale="-1"><symbols>{symbol}</symbols><rotation/><sizescale/></renderer-v2>')
    return _document(renderer, _form(columns, set(), label=column_label), display=columns[0] if columns else "fid")


def write_layer_styles(path: str | Path) -> list[str]:
    """Write a default QGIS style for every feature layer of the GeoPackage ``path`` into ``layer_styles``.

    Layers holding a ``case_id`` and ``family`` column get :func:`findings_qml`, others :func:`layer_qml`.
    The table has QGIS's own schema and is registered in ``gpkg_contents`` as an attributes table, as QGIS
    registers it when it saves a style itself; earlier rows for the same layers are replaced.

    Parameters
    ----------
    path : str or Path
        A GeoPackage (written by pyogrio/GDAL).

    Returns
    -------
    list of str
        The layers styled.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, shapely
    >>> p = Path(tempfile.mkdtemp()) / "x.gpkg"
    >>> gpd.GeoDataFrame({"parcel_id": ["P1"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548).to_file(p, layer="parcels")
    >>> write_layer_styles(p)
    ['parcels']
    """
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous=OFF")  # landguard writes into a temporary file renamed once complete
        with con:
            layers = con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns ORDER BY table_name").fetchall()
            con.execute("CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                        "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
                        "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
                        "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
                        "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
            if not con.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone():
                con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                            "VALUES ('layer_styles', 'attributes', 'layer_styles', '', "
                            "strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
            done = []
            for table, geom in layers:
                columns = [r[1] for r in con.execute(f"PRAGMA table_info({_quote_field(table)})")
                           if r[1] != geom and not r[5]]  # no geometry, no primary key (fid)
                if {"case_id", "family"} <= set(columns):
                    qml, name = findings_qml(columns), f"{table} 问题图斑"
                else:
                    qml, name = layer_qml(table, columns), layer_label(table)
                con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
                con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                            "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                            "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                            (table, geom, name[:30], qml, "landguard: 地图配色、中文别名、核查表单 (map colours, "
                                                          "Chinese aliases, field form)"))
                done.append(table)
    finally:
        con.close()
    return done
