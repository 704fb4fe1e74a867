/* Import job page: poll the progress of a queued or running import and show it.
   Progressive: without script the page refreshes itself (<noscript> meta refresh). */
(function () {
  var box = document.getElementById("import-progress");
  if (!box || !window.fetch) return;
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") return;
  function poll() {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      box.querySelector("[data-field=status]").textContent = data.status;
      box.querySelector("[data-field=processed]").textContent = data.processed;
      box.querySelector("[data-field=total]").textContent = data.total || "?";
      var bar = box.querySelector("progress"); bar.max = data.total || 1; bar.value = data.processed;
      if (data.status === "queued" || data.status === "running") { setTimeout(poll, 1000); } else { window.location.reload(); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
