// Rule builder: where JavaScript runs, changing a condition's field or a rule's action
// redraws the form at once (the "Update the form" button does the same without it).
(function () {
  "use strict";
  var form = document.querySelector("form.rule-builder");
  if (!form) { return; }
  form.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (/^r\d+-(c\d+-field|action|target)$/.test(name)) {
      var refresh = form.querySelector('button[name="do"][value="refresh"]');
      if (refresh) { refresh.click(); }
    }
  });
})();
