/* The main menu on a phone is one strip that scrolls sideways inside the header.
   Bring the current page's link into the middle of it, so a person sees where they
   are (the last items, such as Deliveries, would otherwise sit past the edge). */
(function () {
  "use strict";

  function centre() {
    var current = document.querySelector('.site-nav a[aria-current="page"]');
    var strip = current && current.closest("ul");
    if (!strip || strip.scrollWidth <= strip.clientWidth) { return; }
    var link = current.getBoundingClientRect();
    var box = strip.getBoundingClientRect();
    strip.scrollLeft += (link.left - box.left) - (strip.clientWidth - link.width) / 2;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", centre);
  } else {
    centre();
  }
  window.addEventListener("resize", centre);
})();
