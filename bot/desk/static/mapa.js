// The Mapa: the open cases with a pin, over tiles from desk.map_tiles_url (none: a plain
// background). The popups are built from text nodes: nothing the citizen wrote is read as HTML.
(function () {
  "use strict";
  var element = document.getElementById("mapa");
  if (!element || !window.L || !window.fetch) { return; }
  var map = L.map(element, { attributionControl: false }).setView([13.7, -89.2], 8);
  var tiles = element.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 19 }).addTo(map); }
  var colours = { emergencia: "#cf222e", urgente: "#9a6700", normal: "#0a5cad" };
  fetch(element.getAttribute("data-points"), { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : []; })
    .then(function (points) {
      var bounds = [];
      points.forEach(function (p) {
        var popup = document.createElement("div");
        var link = document.createElement("a");
        link.href = "/mesa/casos/" + encodeURIComponent(p.folio);
        link.textContent = p.folio;
        popup.appendChild(link);
        popup.appendChild(document.createTextNode(" · " + p.tema + " · " + p.estado));
        L.circleMarker([p.lat, p.lon], {
          radius: 8, color: colours[p.urgencia] || colours.normal, weight: 2, fillOpacity: 0.6
        }).bindPopup(popup).addTo(map);
        bounds.push([p.lat, p.lon]);
      });
      if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 }); }
    })
    .catch(function () {});
})();
