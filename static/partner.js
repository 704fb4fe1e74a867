/* Partner pages: count down every [data-deadline] and refresh the [data-count] figures.
   Progressive: the server already rendered both; this only keeps them current. */
(function () {
  "use strict";

  function left(deadline) {
    var seconds = Math.floor((deadline - Date.now()) / 1000);
    if (seconds <= 0) { return "expired"; }
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes / 60) % 24, mins = minutes % 60;
    if (days) { return days + " d " + hours + " h"; }
    if (hours) { return hours + " h " + mins + " min"; }
    return mins ? mins + " min" : "under 1 min";
  }

  var skew = 0; /* server clock minus browser clock, learnt from counts.json */

  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-deadline"));
      if (!isNaN(at)) { el.textContent = left(at - skew); }
    });
  }

  function refresh() {
    if (!document.querySelector("[data-count]")) { return; }
    fetch("/partner/counts.json", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) {
        if (!counts) { return; }
        skew = Date.parse(counts.now) - Date.now();
        document.querySelectorAll("[data-count]").forEach(function (el) {
          var name = el.getAttribute("data-count");
          var target = el.querySelector(".tile-number") || el; /* a dashboard tile, or the figure */
          if (name in counts && String(counts[name]) !== target.textContent) {
            target.textContent = counts[name];
          }
        });
      })
      .catch(function () { /* offline: keep what the page shows */ });
  }

  tick();
  setInterval(tick, 15000);
  setInterval(refresh, 30000);
})();
