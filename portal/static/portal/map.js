/* Home page: the device picker (brand + search) and the preview map (server-side clusters).
   No external resources: Leaflet comes from the django-leaflet static files; tiles only if
   configured. */
(function () {
  "use strict";

  // The texts, translated on the server (views.home.map_texts, in the page as #map-texts).
  var TEXTS = null;
  function texts() {
    if (TEXTS === null) {
      var el = document.getElementById("map-texts");
      TEXTS = el ? JSON.parse(el.textContent) : {};
    }
    return TEXTS;
  }
  function fill(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (all, name) {
      return values[name] !== undefined ? values[name] : all;
    });
  }
  // forms: {CLDR plural category: text}; the language's category of n picks one
  function plural(forms, n, values) {
    forms = forms || {};
    var category = "other";
    try { category = new Intl.PluralRules(texts().lang).select(n); } catch (e) { /* old browser */ }
    return fill(forms[category] || forms.other || forms.one || "", values);
  }
  function formatNumber(n) {
    try { return n.toLocaleString(texts().lang); } catch (e) { return String(n); }
  }
  function formatDate(iso) {
    try {
      return new Date(iso + "T12:00:00Z").toLocaleDateString(texts().lang, {year: "numeric", month: "long", day: "numeric"});
    } catch (e) { return iso; }
  }

  // ------------------------------------------------------------------ device picker
  function setupPicker() {
    var picker = document.getElementById("device-picker");
    var list = document.getElementById("device-list");
    if (!picker || !list) return;
    var brand = document.getElementById("device-brand");
    var search = document.getElementById("device-search");
    var count = document.getElementById("device-count");
    var none = document.getElementById("device-none");
    var groups = list.querySelectorAll(".brand-group");
    picker.hidden = false;

    // A number matches a model-number pattern of the device (x: any digit): 520 matches x20.
    function modelMatch(li, word) {
      if (!/^\d+$/.test(word)) return false;
      return (li.getAttribute("data-models") || "").split(" ").filter(Boolean).some(function (p) {
        return new RegExp("^" + p.replace(/x/g, "\\d") + "$").test(word);
      });
    }

    function apply() {
      var wanted = brand.value;
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      groups.forEach(function (group) {
        var groupShown = 0;
        var brandOk = !wanted || group.getAttribute("data-brand") === wanted;
        group.querySelectorAll("li").forEach(function (li) {
          var text = li.getAttribute("data-search") || "";
          var ok = brandOk && words.every(function (w) { return text.indexOf(w) !== -1 || modelMatch(li, w); });
          li.hidden = !ok;
          if (ok) groupShown++;
        });
        group.hidden = groupShown === 0;
        shown += groupShown;
      });
      count.textContent = plural(texts().devices, shown, {count: formatNumber(shown)});
      none.hidden = shown !== 0;
    }
    brand.addEventListener("change", apply);
    search.addEventListener("input", apply);
    search.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      var first = list.querySelector("li:not([hidden]) a");
      var visible = list.querySelectorAll("li:not([hidden]) a");
      if (visible.length === 1 && first) { window.location.href = first.href; }
    });
    apply();
  }

  // ------------------------------------------------------------------ map
  var CATEGORY_COLOURS = {
    "fixed": "#c0392b", "red-light": "#d68910", "section": "#7d3c98",
    "other": "#566573", "danger": "#b7950b", "mobile": "#1f618d"
  };

  function wrapLon(lon) {
    return ((((lon + 180) % 360) + 360) % 360) - 180;
  }

  function bboxParam(bounds) {
    var west = bounds.getWest(), east = bounds.getEast();
    var south = Math.max(-90, bounds.getSouth()), north = Math.min(90, bounds.getNorth());
    if (east - west >= 360) { west = -180; east = 180; }
    else {
      west = wrapLon(west); east = wrapLon(east);
      if (east === -180) east = 180;
    }
    if (south >= north) north = Math.min(90, south + 1e-6);
    return [west, south, east, north].map(function (v) { return v.toFixed(5); }).join(",");
  }

  function formatCount(n) {
    if (n >= 10000) return Math.round(n / 1000) + "k";
    if (n >= 1000) return (n / 1000).toFixed(1) + "k";
    return String(n);
  }

  function setupMap() {
    var el = document.getElementById("map");
    var cfgEl = document.getElementById("map-config");
    var status = document.getElementById("map-status");
    if (!el || !cfgEl) return;
    if (!window.L) { status.textContent = texts().no_library; return; }
    var cfg = JSON.parse(cfgEl.textContent);
    var url = el.getAttribute("data-clusters-url");
    var typeInfo = {};
    cfg.types.forEach(function (t) { typeInfo[t.slug] = t; });

    var map = L.map(el, {minZoom: cfg.minZoom, maxZoom: cfg.maxZoom, worldCopyJump: true})
      .setView(cfg.center, cfg.zoom);
    if (cfg.tiles) {
      var opts = Object.assign({maxZoom: cfg.maxZoom}, cfg.tileOptions || {});
      L.tileLayer(cfg.tiles, opts).addTo(map);
    } else {
      el.classList.add("no-tiles");
    }
    var layer = L.layerGroup().addTo(map);
    var checkboxes = Array.prototype.slice.call(document.querySelectorAll("#map-filter input[name=types]"));
    var controller = null, timer = null, seq = 0;

    function selectedTypes() {
      var all = checkboxes.every(function (c) { return c.checked; });
      if (all) return null;                       // every type: no parameter
      return checkboxes.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
    }

    function clusterIcon(count) {
      var size = count < 10 ? 28 : count < 100 ? 34 : count < 1000 ? 40 : count < 10000 ? 46 : 54;
      var cls = count < 100 ? "small" : count < 1000 ? "medium" : "large";
      return L.divIcon({
        html: "<span>" + formatCount(count) + "</span>", className: "camera-cluster cluster-" + cls,
        iconSize: [size, size]
      });
    }

    // The copy of a longitude nearest the view's centre (after panning across the antimeridian).
    function near(lon, centre) {
      return lon + 360 * Math.round((centre - lon) / 360);
    }

    function draw(data) {
      layer.clearLayers();
      var centre = map.getCenter().lng;
      data.clusters.forEach(function (c) { c[1] = near(c[1], centre); });
      data.cameras.forEach(function (c) { c[1] = near(c[1], centre); });
      data.clusters.forEach(function (c) {
        var m = L.marker([c[0], c[1]], {icon: clusterIcon(c[2]), title: plural(texts().cluster_title, c[2], {count: formatNumber(c[2])}), keyboard: false});
        m.on("click", function () {
          map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, cfg.maxZoom));
        });
        layer.addLayer(m);
      });
      data.cameras.forEach(function (c) {
        var t = typeInfo[c[3]] || {label: c[3], category: "other"};
        var colour = CATEGORY_COLOURS[t.category] || "#555";
        var m = L.circleMarker([c[0], c[1]], {
          radius: 6, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95
        });
        var text = document.createElement("div");
        var strong = document.createElement("strong");
        strong.textContent = t.label;
        text.appendChild(strong);
        text.appendChild(document.createElement("br"));
        text.appendChild(document.createTextNode(
          (c[4] ? fill(texts().speed, {speed: c[4]}) : texts().speed_unknown) + " \u00b7 " +
          fill(texts().camera_number, {id: c[2]})));
        m.bindPopup(text);
        layer.addLayer(m);
      });
      var shown = data.total;
      if (data.release === null) {
        status.textContent = texts().no_release;
      } else {
        status.textContent = plural(texts().cameras_here, shown, {
          count: formatNumber(shown), number: data.release.number, date: formatDate(data.release.date)});
      }
    }

    function load() {
      var types = selectedTypes();
      var params = "bbox=" + bboxParam(map.getBounds().pad(0.2)) + "&zoom=" + map.getZoom();
      if (types !== null) params += "&types=" + encodeURIComponent(types.join(","));
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var mine = ++seq;
      status.textContent = texts().loading;
      fetch(url + "?" + params, {signal: controller ? controller.signal : undefined,
                                 headers: {"Accept": "application/json"}})
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
            return body;
          });
        })
        .then(function (data) { if (mine === seq) draw(data); })
        .catch(function (err) {
          if (err && err.name === "AbortError") return;
          if (mine === seq) status.textContent = fill(texts().failed, {error: err.message});
        });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(load, 120);
    }

    map.on("moveend", schedule);
    checkboxes.forEach(function (c) { c.addEventListener("change", schedule); });
    // the filter applies as it changes: never submitted (an inline onsubmit would need 'unsafe-inline')
    document.getElementById("map-filter").addEventListener("submit", function (e) { e.preventDefault(); });
    document.querySelectorAll("#map-filter [data-select]").forEach(function (b) {
      b.addEventListener("click", function () {
        var on = b.getAttribute("data-select") === "all";
        checkboxes.forEach(function (c) { c.checked = on; });
        schedule();
      });
    });
    load();
    window.speedcamMap = map;  // for tests and debugging
  }

  function start() {
    setupPicker();
    setupMap();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
