/*
 * landguard village map runtime (part of landguard, MIT licence).
 *
 * - decodes each overlay's compact data (integer vertices, property columns: decode) into GeoJSON;
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
    byCase: {}, groupOf: {}, panel: null, active: null,
    legend: null, bar: null, offline: null, fellBack: false
  };

  /* Phones and narrow windows: the list is a bottom sheet (see landguard.css, same 700 px limit). */
  function narrow() {
    return window.matchMedia ? window.matchMedia("(max-width: 700px)").matches : window.innerWidth <= 700;
  }

  /* Height of the bottom sheet (0 on a wide screen) and of the title bar, in pixels. */
  function sheetHeight() {
    return state.panel && narrow() ? state.panel.offsetHeight : 0;
  }

  function barHeight() {
    return state.bar ? state.bar.offsetHeight : 0;
  }

  /* Keep the bottom controls (legend, scale, attribution) above the sheet: they never cover the list. */
  function placeBottom() {
    if (!state.map) { return; }
    var corners = state.map.getContainer().querySelectorAll(".leaflet-bottom");
    var h = sheetHeight();
    for (var i = 0; i < corners.length; i++) { corners[i].style.bottom = h ? (h + 4) + "px" : ""; }
    if (state.legend) {
      var room = state.map.getSize().y - h - 110;
      state.legend.style.maxHeight = Math.max(120, room) + "px";
    }
  }

  /* Popup options for the current screen: fully inside the viewport, clear of the bar and the sheet. */
  function popupOptions() {
    var w = window.innerWidth, h = window.innerHeight;
    var small = narrow();
    return {
      maxWidth: small ? Math.max(200, w - 40) : 420,
      minWidth: small ? Math.min(240, w - 60) : 240,
      maxHeight: small ? Math.max(160, h - 260) : Math.max(200, h - 160),
      className: "lg-popup",
      autoPan: true,
      autoPanPaddingTopLeft: L.point(12, 12),
      autoPanPaddingBottomRight: L.point(12, 12)
    };
  }

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

  /* Value i of a property column (maps/village.py _column): a list, {d: distinct values, i: index of each},
     or {j: fixed texts, h: hole columns} for j[0] + h[0][i] + j[1] + ... + j[last]. */
  function cell(col, i) {
    if (Array.isArray(col)) { return col[i]; }
    if (col.j) {
      var text = col.j[0];
      for (var k = 0; k < col.h.length; k++) { text += cell(col.h[k], i) + col.j[k + 1]; }
      return text;
    }
    return col.d[col.i[i]];
  }

  var TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
               6: "MultiPolygon", 7: "GeometryCollection"};

  /* A layer's compact data (maps/village.py _layer_data, _encode_geoms) as a GeoJSON FeatureCollection.
     Vertices are integers in 1e-7 degrees, each pair the difference from the one before; a ring's closing
     vertex is put back. int / 1e7 is the same double as the 7-decimal text it stands for. */
  function decode(d) {
    var g = d.g, k = g.k, m = g.m || [], r = g.r || [], l = g.l || [], c = g.c || [];
    var ik = 0, im = 0, ir = 0, il = 0, ic = 0, x = 0, y = 0;
    function line(closed) {
      var n = l[il++], out = new Array(n);
      for (var j = 0; j < n; j++) {
        x += c[ic++]; y += c[ic++];
        out[j] = [x / 1e7, y / 1e7];
      }
      if (closed && n) { out.push([out[0][0], out[0][1]]); }
      return out;
    }
    function polygon() {
      var n = r[ir++], out = new Array(n);
      for (var j = 0; j < n; j++) { out[j] = line(true); }
      return out;
    }
    function geometry() {
      var t = typeof k === "number" ? k : k[ik++], n, j, out;
      if (t === 7) {
        n = m[im++]; out = new Array(n);
        for (j = 0; j < n; j++) { out[j] = geometry(); }
        return {type: TYPES[7], geometries: out};
      }
      if (t === 0) { out = line(false); return {type: TYPES[0], coordinates: out.length ? out[0] : []}; }
      if (t === 1) { return {type: TYPES[1], coordinates: line(false)}; }
      if (t === 3) { return {type: TYPES[3], coordinates: polygon()}; }
      n = m[im++]; out = new Array(n);
      for (j = 0; j < n; j++) {
        if (t === 4) { var p = line(false); out[j] = p.length ? p[0] : []; }
        else { out[j] = t === 5 ? line(false) : polygon(); }
      }
      return {type: TYPES[t], coordinates: out};
    }
    var f = d.f || {}, keys = Object.keys(f), v = d.v, features = new Array(d.n);
    for (var i = 0; i < d.n; i++) {
      var props = {};
      for (var q = 0; q < keys.length; q++) {
        var value = cell(f[keys[q]], i);
        if (value !== null && value !== undefined) { props[keys[q]] = value; }
      }
      if (v) {
        props.v = new Array(v.length);
        for (var w = 0; w < v.length; w++) { props.v[w] = cell(v[w], i); }
      }
      features[i] = {type: "Feature", geometry: geometry(), properties: props};
    }
    return {type: "FeatureCollection", features: features};
  }

  /* A GeoJSON overlay from compact data (decode). opts: {style: {...}, weights: {high: 4, ...}, kind: "finding"|"context", z: int,
     popup: {title, colour, rows} for features carrying values v instead of a popup p} */
  function geoLayer(map, data, opts) {
    opts = opts || {};
    var pane = newPane(map, opts.z || 380);
    var base = L.extend({}, opts.style || {});
    var styleOf = function (feature) {
      var s = L.extend({}, base);
      var p = (feature && feature.properties) || {};
      if (opts.weights && p.s && opts.weights[p.s]) { s.weight = opts.weights[p.s]; }
      // the village of the map is highlighted, its neighbours dimmed
      if (p.o === 1 && opts.own) { L.extend(s, opts.own); }
      if (p.o === 0 && opts.other) { L.extend(s, opts.other); }
      // a finding's change against the previous run (新增 / 持续)
      if (typeof p.c === "string" && opts.changes && opts.changes.hasOwnProperty(p.c)) { L.extend(s, opts.changes[p.c]); }
      return s;
    };
    var layer = L.geoJSON(null, {
      pane: pane,
      coordsToLatLng: toLatLng,
      style: styleOf,
      pointToLayer: function (feature, latlng) {
        if (opts.kind === "photo") {
          // where a photo was taken; an arrow points the camera's direction (degrees from north) when known
          var d = (feature.properties || {}).d;
          var arrow = (typeof d === "number" && isFinite(d))
            ? '<span class="lg-photo-dir" style="transform:rotate(' + d + 'deg)"></span>' : "";
          return L.marker(latlng, {pane: pane, icon: L.divIcon({className: "lg-photo", iconSize: [24, 24],
            iconAnchor: [12, 12], html: arrow + '<span class="lg-photo-dot"></span>'})});
        }
        return L.circleMarker(latlng, L.extend({radius: 6, pane: pane}, styleOf(feature)));
      },
      onEachFeature: function (feature, sub) {
        var p = feature.properties || {};
        var popupOpts = popupOptions();
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
    data = decode(data);
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

  /* A base layer: tile layers grouped, flagged gcj02 when drawn in GCJ-02. The tile-less one is the
     offline background; when an online basemap's tiles fail before any has loaded, the map switches to
     it and says so. */
  function base(tiles, gcj, offline) {
    var group = L.layerGroup([], {gcj02: !!gcj, offline: !!offline});
    var loaded = 0;
    tiles.forEach(function (t) {
      var layer = L.tileLayer(t.url, t.options);
      layer.on("tileload", function () { loaded += 1; });
      layer.on("tileerror", function () {
        if (loaded === 0 && state.map && state.map.hasLayer(group)) { fallBack(group); }
      });
      group.addLayer(layer);
    });
    if (offline) { state.offline = group; }
    state.bases.push(group);
    return group;
  }

  function fallBack(group) {
    var map = state.map;
    if (!state.offline || group === state.offline) { return; }
    map.removeLayer(group);
    if (!map.hasLayer(state.offline)) { map.addLayer(state.offline); }
    setDatum(false, true);
    state.fellBack = true;
    document.documentElement.setAttribute("data-lg-offline", "1");
    notice(map, "在线底图无法加载，已切换到离线底图（图层不受影响）。Online tiles failed: offline background.");
  }

  function notice(map, text) {
    var div = map.getContainer().querySelector(".lg-notice");
    if (!div) {
      div = L.DomUtil.create("div", "lg-notice", map.getContainer());
      div.setAttribute("role", "status");
      var close = L.DomUtil.create("button", "lg-notice-x", div);
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", "关闭");
      L.DomUtil.create("span", "lg-notice-t", div);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(close, "click", function () { div.style.display = "none"; });
    }
    div.querySelector(".lg-notice-t").textContent = text;
    div.style.display = "";
    div.style.top = "10px";
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
    if (narrow()) { fold(true); }
    var bounds = sub.getBounds ? sub.getBounds() : L.latLngBounds([sub.getLatLng(), sub.getLatLng()]);
    var size = state.map.getSize();
    var pad = narrow() ? {paddingTopLeft: [30, Math.round(size.y * 0.45)], paddingBottomRight: [30, 30]}
                       : {paddingTopLeft: [60, 260], paddingBottomRight: [60 + panelWidth(), 60]};
    state.map.fitBounds(bounds, L.extend({maxZoom: 19, animate: false}, pad));
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

  function panelWidth() {
    return state.panel && !narrow() && !L.DomUtil.hasClass(state.panel, "lg-collapsed") ? state.panel.offsetWidth : 0;
  }

  /* Fold (true) or unfold (false) the findings list; on a phone it is the bottom sheet. */
  function fold(folded) {
    var div = state.panel;
    if (!div) { return; }
    if (folded) { L.DomUtil.addClass(div, "lg-collapsed"); } else { L.DomUtil.removeClass(div, "lg-collapsed"); }
    // on a phone the open sheet and the open legend take turns: neither hides the map's controls
    if (!folded && narrow() && state.foldLegend) { state.foldLegend(true); }
    var btn = div.querySelector("[data-lg-toggle]");
    if (btn) {
      btn.textContent = folded ? "展开" : "收起";
      btn.setAttribute("aria-expanded", folded ? "false" : "true");
    }
    placeBottom();
  }

  /* The search box: keeps the list entries whose case id, subject id or (masked) owner contain the text. */
  function search(text) {
    var q = String(text || "").trim().toLowerCase();
    var items = state.panel.querySelectorAll("li[data-q]");
    var first = null, n = 0;
    for (var i = 0; i < items.length; i++) {
      var hit = !q || items[i].getAttribute("data-q").indexOf(q) >= 0;
      items[i].style.display = hit ? "" : "none";
      if (hit) {
        n += 1;
        if (!first) { first = items[i].querySelector("[data-case]"); }
      }
    }
    var heads = state.panel.querySelectorAll("[data-lg-group]");
    for (var k = 0; k < heads.length; k++) {
      var any = heads[k].querySelectorAll('li[data-q]:not([style*="none"])').length > 0;
      heads[k].style.display = any ? "" : "none";
    }
    var out = state.panel.querySelector(".lg-hits");
    if (out) { out.textContent = q ? (n ? "找到 " + n + " 处" : "未找到") : ""; }
    return first;
  }

  function panel(map, html) {
    var div = control(map, html, "topright", "lg-panel");
    state.panel = div;
    if (narrow()) {
      // phones: the list is a bottom sheet, folded so the map is visible
      fold(true);
    }
    var box = div.querySelector(".lg-search");
    if (box) {
      L.DomEvent.on(box, "input", function () {
        if (L.DomUtil.hasClass(div, "lg-collapsed")) { fold(false); }
        search(box.value);
      });
      L.DomEvent.on(box, "keydown", function (e) {
        if (e.key === "Enter") {
          L.DomEvent.preventDefault(e);
          var first = search(box.value);
          if (first) { focus(first.getAttribute("data-case")); }
        }
      });
    }
    map.on("resize", placeBottom);
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
          fold(!L.DomUtil.hasClass(div, "lg-collapsed"));
          return;
        }
        t = t.parentNode;
      }
    });
    return div;
  }

  /* The legend: folded on a phone (a small 图例 button), kept above the bottom sheet. */
  function legend(map, html) {
    // bottom left: clear of the side panel (top right) on a desktop, above the sheet on a phone
    var div = control(map, html, "bottomleft", "lg-legend");
    state.legend = div;
    var btn = div.querySelector("[data-lg-legend]");
    function set(folded) {
      if (folded) { L.DomUtil.addClass(div, "lg-folded"); } else { L.DomUtil.removeClass(div, "lg-folded"); }
      if (btn) { btn.setAttribute("aria-expanded", folded ? "false" : "true"); }
      if (!folded && narrow() && state.panel && !L.DomUtil.hasClass(state.panel, "lg-collapsed")) { fold(true); }
      placeBottom();
    }
    state.foldLegend = set;
    set(narrow());
    if (btn) {
      L.DomEvent.on(btn, "click", function (e) {
        L.DomEvent.preventDefault(e);
        set(!L.DomUtil.hasClass(div, "lg-folded"));
      });
    }
    placeBottom();
    return div;
  }

  /* The title bar above the map: project, run date, village (HTML escaped in Python). */
  function bar(map, html) {
    var container = map.getContainer();
    var div = document.createElement("header");
    div.className = "lg-bar";
    div.innerHTML = html;
    container.parentNode.insertBefore(div, container);
    state.bar = div;
    // the map sits below the bar and ends at the bottom of the window
    container.style.top = div.offsetHeight + "px";
    container.style.height = "calc(100% - " + div.offsetHeight + "px)";
    map.invalidateSize({animate: false});
    return div;
  }

  /* Printing: the list goes below the map, unfolded, on the same page. */
  function printing(on) {
    var div = state.panel, map = state.map;
    if (!div || !map || !!on === !!state.printing) { return; }
    state.printing = !!on;
    if (on) {
      state.printFolded = L.DomUtil.hasClass(div, "lg-collapsed");
      state.panelHome = div.parentNode;
      L.DomUtil.removeClass(div, "lg-collapsed");
      document.body.appendChild(div);
      L.DomUtil.addClass(div, "lg-print-list");
    } else if (state.panelHome) {
      L.DomUtil.removeClass(div, "lg-print-list");
      state.panelHome.appendChild(div);
      if (state.printFolded) { fold(true); }
    }
    map.invalidateSize({animate: false});
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
    window.addEventListener("beforeprint", function () { printing(true); });
    window.addEventListener("afterprint", function () { printing(false); });
  }

  /* Called last: pick the datum of the visible base layer and fit the village. */
  function ready(map, bounds) {
    var active = null;
    state.bases.forEach(function (b) { if (map.hasLayer(b)) { active = b; } });
    if (active && active.options.gcj02) { setDatum(true, false); }
    // the first view frames the village's findings (else the village), clear of the panel or the sheet
    var fit = {padding: [30, 30], animate: false, maxZoom: 19};
    var width = panelWidth();
    if (width && map.getSize().x > 2.5 * width) {
      fit = {paddingTopLeft: [30, 30], paddingBottomRight: [width + 40, 30], animate: false, maxZoom: 19};
    } else if (narrow()) {
      fit = {paddingTopLeft: [24, 24], paddingBottomRight: [24, sheetHeight() + 24], animate: false, maxZoom: 19};
    }
    map.fitBounds(shiftBounds(bounds), fit);
    placeBottom();
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
    gcj02: gcj02, decode: decode, setup: setup, ready: ready, geoLayer: geoLayer, image: image, base: base,
    panel: panel, legend: legend, bar: bar, focus: focus, fold: fold, search: search, printing: printing,
    setDatum: setDatum, count: count, narrow: narrow, state: state
  };
})(window);
