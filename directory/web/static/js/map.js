/* The interactive map of a result list (map view only; docs/maps.md). Without this file, or
   without Leaflet, the server-drawn SVG map stays: it is the same map without JavaScript.

   - Base map: the operator's PMTiles archive from our own origin (protomaps-leaflet reads it
     by HTTP Range requests), else a third-party tile server only if the operator configured
     one, else the shipped country outlines (a static file of this site).
   - Data: /{locale}/search/map-data with the search's own filters and the visible box; it
     answers points, or clusters counted by the server when there are many (confidential
     places are never in it). Numbered markers are the list's numbers.
   - Tapping a marker shows its card under the map; tapping a cluster zooms in.
   - "Show my position" draws it on this phone only; it is never sent (near-me is the form's
     own button, which sends the position rounded to about 1 km, as everywhere). */
(function () {
  "use strict";

  var current = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function numberFormat(locale) {
    try { return new Intl.NumberFormat(locale); } catch (e) { return { format: String }; }
  }

  function start(figure) {
    if (!window.L || figure.getAttribute("data-ready")) return;
    figure.setAttribute("data-ready", "1");
    var L = window.L;
    var d = function (name) { return figure.getAttribute("data-" + name) || ""; };
    var locale = d("locale");
    var rtl = document.documentElement.dir === "rtl";
    var fmt = numberFormat(locale);
    var ids = d("ids") ? d("ids").split(",") : [];
    var first = parseInt(d("first"), 10) || 1;
    var numbers = {};
    ids.forEach(function (id, i) { numbers[id] = first + i; });

    var box = el("div", "map-live");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", d("label"));
    box.tabIndex = 0;
    figure.insertBefore(box, figure.firstChild);
    figure.classList.add("live");

    var map = L.map(box, { zoomControl: true, attributionControl: true, worldCopyJump: true });
    map.attributionControl.setPrefix(false);
    if (rtl) map.zoomControl.setPosition("topright");

    if (d("pmtiles") && window.protomapsL) {
      window.protomapsL.leafletLayer({
        url: d("pmtiles"), flavor: "light", lang: locale,
        attribution: "© OpenStreetMap"
      }).addTo(map);
    } else if (d("tiles")) {
      L.tileLayer(d("tiles"), { attribution: d("attribution"), maxZoom: 19 }).addTo(map);
    } else {
      fetch(d("outlines")).then(function (r) { return r.json(); }).then(function (geo) {
        L.geoJSON(geo, {
          interactive: false,
          style: { color: "#8a8f98", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 }
        }).addTo(map).bringToBack();
      }).catch(function () {});
      map.attributionControl.addAttribution(d("credit"));
      box.classList.add("outlines");
    }

    var layer = L.layerGroup().addTo(map);
    var card = document.getElementById("map-card");

    function showCard(id) {
      var url = "/" + locale + "/services/" + id + "/card";
      fetch(url, { headers: { "Accept": "text/html" } }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      }).then(function (html) {
        if (!card) return;
        card.innerHTML = html;
        var link = card.querySelector("a");
        if (link) link.focus();
      }).catch(function () {
        window.location.href = "/" + locale + "/services/" + id;
      });
    }

    function draw(data) {
      layer.clearLayers();
      (data.clusters || []).forEach(function (c) {
        var size = c[2] < 10 ? 34 : c[2] < 100 ? 40 : c[2] < 1000 ? 48 : 56;
        var icon = L.divIcon({
          className: "map-cluster", iconSize: [size, size],
          html: "<span>" + fmt.format(c[2]) + "</span>"
        });
        L.marker([c[0], c[1]], { icon: icon, title: d("more"), keyboard: true })
          .on("click", function () { map.setView([c[0], c[1]], Math.min(map.getZoom() + 2, 18)); })
          .addTo(layer);
      });
      (data.points || []).forEach(function (p) {
        var id = p[0], approx = p[3] === 1, n = numbers[id];
        if (approx) {
          L.circle([p[1], p[2]], { radius: 1000, className: "map-area", interactive: false })
            .addTo(layer);
        }
        var icon = L.divIcon({
          className: "map-pin" + (n ? " numbered" : ""),
          iconSize: n ? [28, 28] : [18, 18],
          html: n ? "<span>" + fmt.format(n) + "</span>" : ""
        });
        var item = document.getElementById("card-" + id);
        var title = item ? item.querySelector("h3 a").textContent : "";
        L.marker([p[1], p[2]], { icon: icon, title: title, keyboard: true,
          zIndexOffset: n ? 1000 - n : 0 })
          .on("click", function () { showCard(id); })
          .addTo(layer);
      });
    }

    var pending = null;
    function load() {
      var b = map.getBounds();
      var w = Math.max(-180, b.getWest()), e = Math.min(180, b.getEast());
      var s = Math.max(-90, b.getSouth()), n = Math.min(90, b.getNorth());
      var url = d("data") + (d("data").indexOf("?") < 0 ? "?" : "&") + "bbox=" +
        [w, s, e, n].map(function (x) { return x.toFixed(4); }).join(",") +
        "&z=" + map.getZoom();
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(url, { signal: pending.signal }).then(function (r) { return r.json(); })
        .then(function (data) { draw(data); figure.setAttribute("data-loaded", "1"); })
        .catch(function (err) { if (err && err.name === "AbortError") return; });
    }
    map.on("moveend", load);

    // The first view: the drawn map's own box (the page's markers), else the whole world.
    var svg = figure.querySelector("svg[data-box]");
    if (svg) {
      var bb = svg.getAttribute("data-box").split(",").map(parseFloat);
      map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]]);
    } else {
      map.setView([48.5, 31.2], 5);
    }

    var Mine = L.Control.extend({
      options: { position: rtl ? "bottomright" : "bottomleft" },
      onAdd: function () {
        var b = el("button", "btn map-mine", d("mine"));
        b.type = "button";
        L.DomEvent.disableClickPropagation(b);
        b.addEventListener("click", function () {
          if (!("geolocation" in navigator)) return;
          navigator.geolocation.getCurrentPosition(function (pos) {
            var here = [pos.coords.latitude, pos.coords.longitude];
            L.circleMarker(here, { radius: 8, className: "map-you" }).bindTooltip(d("you"))
              .addTo(map);
            map.setView(here, Math.max(map.getZoom(), 13));
          }, function () {}, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
        });
        return b;
      }
    });
    map.addControl(new Mine());
    current = map;
  }

  function init() {
    if (current) { current.remove(); current = null; }
    var figure = document.querySelector("[data-map]");
    if (figure) start(figure);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  // htmx swapped the results (a filter changed): the new figure gets a new map
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.target && e.target.id === "results") init();
  });
})();
