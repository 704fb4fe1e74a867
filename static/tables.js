/* Tables on small screens (every page loads this from base.html).

   Each cell gets data-label, its column's heading, and the table the class
   "stack", so the stylesheet can show every row as a labelled card below 40rem.
   Tables marked .no-stack or .report (wide figure tables) keep their columns and
   scroll sideways inside their own box; such a box is made reachable by keyboard
   (tabindex, a name) while it actually overflows. Without JavaScript every table
   still scrolls inside its .table-wrap, never the page. */
(function () {
  "use strict";

  function headings(table) {
    var row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    var labels = [];
    if (!row) { return labels; }
    Array.prototype.forEach.call(row.cells, function (cell) {
      var copy = cell.cloneNode(true);
      /* A sort header's arrow and "(sort)" say how to order, not what the column is. */
      copy.querySelectorAll(".sort-mark, .visually-hidden").forEach(function (el) { el.remove(); });
      var text = copy.textContent.replace(/\s+/g, " ").trim();
      for (var i = 0; i < (cell.colSpan || 1); i++) { labels.push(text); }
    });
    return labels;
  }

  function label(table) {
    var labels = headings(table);
    if (!labels.length) { return; }
    var groups = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) { groups.push(table.tFoot); }
    groups.forEach(function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[column]) {
            cell.setAttribute("data-label", labels[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
    return labels.length > 0;
  }

  function stack(table) {
    if (label(table)) { table.classList.add("stack"); }
  }

  function wrap(table) {
    var parent = table.parentElement;
    if (parent && parent.classList.contains("table-wrap")) { return parent; }
    var box = document.createElement("div");
    box.className = "table-wrap";
    parent.insertBefore(box, table);
    box.appendChild(table);
    return box;
  }

  function name(box) {
    var table = box.querySelector("table");
    var caption = table && table.caption;
    if (caption) { return caption.textContent.trim(); }
    for (var el = box.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName)) { return el.textContent.trim(); }
    }
    return "Table";
  }

  function reachable() {
    /* The width this was last worked out for, so a test can wait for it after a resize. */
    document.documentElement.setAttribute("data-tables-width", String(window.innerWidth));
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name(box) + " (scrolls sideways)");
      } else if (box.getAttribute("tabindex") === "0" && box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }

  function start() {
    document.querySelectorAll("main table").forEach(function (table) {
      /* Partner cards carry their labels in their markup, and lay themselves out. */
      if (table.matches(".partner-cards")) { return; }
      /* Lists lay themselves out on phones (their section of the stylesheet), sort
         links in the heading included: their cells only get labels. */
      if (table.matches(".list-table")) { label(table); return; }
      var keepColumns = table.classList.contains("no-stack") || table.classList.contains("report");
      if (keepColumns) { wrap(table); } else { stack(table); }
    });
    reachable();
    window.addEventListener("resize", reachable);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
