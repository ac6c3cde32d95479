/*
 * landguard village map runtime (part of landguard, MIT licence).
 *
 * - keeps every overlay's WGS84 GeoJSON and redraws it in GCJ-02 when a GCJ-02 basemap (Gaode) is
 *   the active base layer, and back in WGS84 otherwise (same formula as spatial/gcj02.py);
 * - one pane per layer so toggling a layer never changes the drawing order;
 * - registry of finding features by case id, the findings side panel and the legend.
 *
 * Popup and tooltip strings arrive already HTML-escaped from Python; nothing here builds HTML
 * from attribute values.
 */
(function (root) {
  "use strict";

  function gcj02(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) { return [lon, lat]; }
    var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI;
    var x = lon - 105.0, y = lat - 35.0, sx = Math.sqrt(Math.abs(x));
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx + common;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx + common;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat / 180.0 * PI, s = Math.sin(rad), magic = 1.0 - EE * s * s, sm = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sm) * PI);
    dlon = (dlon * 180.0) / (A / sm * Math.cos(rad) * PI);
    return [lon + dlon, lat + dlat];
  }

  var state = {
    map: null, gcj: false, paneCount: 0,
    layers: [], images: [], bases: [],
    byCase: {}, groupOf: {}, panel: null, active: null
  };

  function toLatLng(c) {
    if (state.gcj) {
      var g = gcj02(c[0], c[1]);
      return L.latLng(g[1], g[0]);
    }
    return L.latLng(c[1], c[0]);
  }

  function shiftBounds(b) {
    // b: [[south, west], [north, east]] in WGS84
    if (!state.gcj) { return L.latLngBounds(b); }
    var sw = gcj02(b[0][1], b[0][0]), ne = gcj02(b[1][1], b[1][0]);
    return L.latLngBounds([sw[1], sw[0]], [ne[1], ne[0]]);
  }

  function newPane(map, zIndex) {
    state.paneCount += 1;
    var name = "lgPane" + state.paneCount;
    var pane = map.createPane(name);
    pane.style.zIndex = String(zIndex);
    L.DomUtil.addClass(pane, "lg-pane");
    return name;
  }

  function setActive(id) {
    state.active = id;
    if (!state.panel) { return; }
    var items = state.panel.querySelectorAll("[data-case]");
    for (var i = 0; i < items.length; i++) {
      var on = items[i].getAttribute("data-case") === id;
      if (on) { L.DomUtil.addClass(items[i], "lg-active"); } else { L.DomUtil.removeClass(items[i], "lg-active"); }
    }
  }

  /* A context feature's popup from its layer's spec and its (already escaped) values. */
  function tablePopup(spec, v) {
    var out = '<div class="lg-pop"><h4 style="border-color:' + spec.colour + '">' + spec.title +
      (v[0] ? " " + v[0] : "") + "</h4><table>";
    for (var i = 0; i < spec.rows.length; i++) {
      out += "<tr><th>" + spec.rows[i] + "</th><td>" + v[i + 1] + "</td></tr>";
    }
    return out + "</table></div>";
  }

  /* A GeoJSON overlay. opts: {style: {...}, weights: {high: 4, ...}, kind: "finding"|"context", z: int,
     popup: {title, colour, rows} for features carrying values v instead of a popup p} */
  function geoLayer(map, data, opts) {
    opts = opts || {};
    var pane = newPane(map, opts.z || 380);
    var base = L.extend({}, opts.style || {});
    var styleOf = function (feature) {
      var s = L.extend({}, base);
      var p = (feature && feature.properties) || {};
      if (opts.weights && p.s && opts.weights[p.s]) { s.weight = opts.weights[p.s]; }
      return s;
    };
    var layer = L.geoJSON(null, {
      pane: pane,
      coordsToLatLng: toLatLng,
      style: styleOf,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, L.extend({radius: 6, pane: pane}, styleOf(feature)));
      },
      onEachFeature: function (feature, sub) {
        var p = feature.properties || {};
        var popupOpts = {maxWidth: 420, minWidth: 240, className: "lg-popup"};
        if (p.p) { sub.bindPopup(p.p, popupOpts); }
        else if (p.v && opts.popup) { sub.bindPopup(function () { return tablePopup(opts.popup, p.v); }, popupOpts); }
        if (p.t) { sub.bindTooltip(p.t, {sticky: true, className: "lg-tip"}); }
        if (p.id) {
          state.byCase[p.id] = sub;
          state.groupOf[p.id] = layer;
          sub.on("add", function () {
            if (sub._path) { sub._path.setAttribute("data-case", p.id); }
          });
          sub.on("popupopen", function () { setActive(p.id); });
        }
      }
    });
    layer._lgData = data;
    layer._lgKind = opts.kind || "context";
    layer.addData(data);
    state.layers.push(layer);
    return layer;
  }

  /* The orthophoto: an image overlay whose WGS84 bounds follow the datum of the basemap. */
  function image(map, url, bounds, opts) {
    var pane = newPane(map, 300);
    var img = L.imageOverlay(url, shiftBounds(bounds), L.extend({pane: pane, opacity: 1.0}, opts || {}));
    img._lgBounds = bounds;
    state.images.push(img);
    return img;
  }

  /* A base layer: tile layers grouped, flagged gcj02 when drawn in GCJ-02. */
  function base(tiles, gcj) {
    var group = L.layerGroup(tiles.map(function (t) { return L.tileLayer(t.url, t.options); }), {gcj02: !!gcj});
    state.bases.push(group);
    return group;
  }

  function setDatum(gcj, keepView) {
    gcj = !!gcj;
    if (gcj === state.gcj) { return; }
    var map = state.map;
    var centre = map ? map.getCenter() : null;
    state.gcj = gcj;
    if (map) { map.closePopup(); }
    state.byCase = {};
    state.groupOf = {};
    state.layers.forEach(function (layer) {
      layer.clearLayers();
      layer.addData(layer._lgData);
    });
    state.images.forEach(function (img) { img.setBounds(shiftBounds(img._lgBounds)); });
    document.documentElement.setAttribute("data-lg-datum", gcj ? "gcj02" : "wgs84");
    if (map && keepView && centre) {
      // keep the same ground under the screen centre
      var g = gcj02(centre.lng, centre.lat), dlon = g[0] - centre.lng, dlat = g[1] - centre.lat;
      var sign = gcj ? 1 : -1;
      map.panTo([centre.lat + sign * dlat, centre.lng + sign * dlon], {animate: false});
    }
    if (state.active) { setActive(state.active); }
  }

  function focus(id) {
    var sub = state.byCase[id];
    if (!sub || !state.map) { return false; }
    var group = state.groupOf[id];
    if (group && !state.map.hasLayer(group)) { state.map.addLayer(group); }
    var bounds = sub.getBounds ? sub.getBounds() : L.latLngBounds([sub.getLatLng(), sub.getLatLng()]);
    state.map.fitBounds(bounds, {maxZoom: 19, padding: [60, 60], animate: false});
    sub.openPopup();
    setActive(id);
    return true;
  }

  function control(map, html, position, className) {
    var Ctl = L.Control.extend({
      options: {position: position},
      onAdd: function () {
        var div = L.DomUtil.create("div", "leaflet-control lg-box " + className);
        div.innerHTML = html;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var ctl = new Ctl();
    ctl.addTo(map);
    return ctl.getContainer();
  }

  function panel(map, html) {
    var div = control(map, html, "topright", "lg-panel");
    state.panel = div;
    if (map.getSize().x < 700) {
      // phones: start with the list folded so the map is visible
      L.DomUtil.addClass(div, "lg-collapsed");
      var btn = div.querySelector("[data-lg-toggle]");
      if (btn) { btn.textContent = "展开"; }
    }
    L.DomEvent.on(div, "click", function (e) {
      var t = e.target;
      while (t && t !== div) {
        if (t.getAttribute && t.getAttribute("data-case")) {
          L.DomEvent.preventDefault(e);
          focus(t.getAttribute("data-case"));
          return;
        }
        if (t.getAttribute && t.getAttribute("data-lg-toggle") !== null) {
          L.DomEvent.preventDefault(e);
          if (L.DomUtil.hasClass(div, "lg-collapsed")) {
            L.DomUtil.removeClass(div, "lg-collapsed");
            t.textContent = "收起";
          } else {
            L.DomUtil.addClass(div, "lg-collapsed");
            t.textContent = "展开";
          }
          return;
        }
        t = t.parentNode;
      }
    });
    return div;
  }

  function legend(map, html) {
    return control(map, html, "bottomright", "lg-legend");
  }

  /* Called right after the map is created. */
  function setup(map, opts) {
    state.map = map;
    if (opts && opts.icons) {
      // the default marker images are inlined: never let Leaflet guess a path next to the file
      L.Icon.Default.imagePath = "";
      L.Icon.Default.mergeOptions(opts.icons);
    }
    L.control.scale({imperial: false, maxWidth: 180}).addTo(map);
    map.on("baselayerchange", function (e) {
      setDatum(e.layer && e.layer.options && e.layer.options.gcj02, true);
    });
    document.documentElement.setAttribute("data-lg-datum", "wgs84");
  }

  /* Called last: pick the datum of the visible base layer and fit the village. */
  function ready(map, bounds) {
    var active = null;
    state.bases.forEach(function (b) { if (map.hasLayer(b)) { active = b; } });
    if (active && active.options.gcj02) { setDatum(true, false); }
    var fit = {padding: [20, 20], animate: false};
    if (state.panel && !L.DomUtil.hasClass(state.panel, "lg-collapsed")) {
      // keep the village clear of the findings panel when the screen is wide enough
      var width = state.panel.offsetWidth;
      if (map.getSize().x > 2.5 * width) {
        fit = {paddingTopLeft: [20, 20], paddingBottomRight: [width + 30, 20], animate: false};
      }
    }
    map.fitBounds(shiftBounds(bounds), fit);
    document.documentElement.setAttribute("data-lg-ready", "1");
  }

  function count(kind) {
    var n = 0;
    state.layers.forEach(function (layer) {
      if (!kind || layer._lgKind === kind) { n += layer.getLayers().length; }
    });
    return n;
  }

  root.LandguardMap = {
    gcj02: gcj02, setup: setup, ready: ready, geoLayer: geoLayer, image: image, base: base,
    panel: panel, legend: legend, focus: focus, setDatum: setDatum, count: count, state: state
  };
})(window);
