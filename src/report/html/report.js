// Search and filters of the findings table. Reads text, never HTML: the
// page's text is data from inventories and policies.
(function () {
  "use strict";
  var search = document.getElementById("search");
  var priority = document.getElementById("priority");
  var overdue = document.getElementById("overdue-only");
  var openOnly = document.getElementById("open-only");
  var count = document.getElementById("shown-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.finding"));
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  function apply() {
    var q = search.value.trim().toLowerCase();
    var p = priority.value;
    var shown = 0;
    rows.forEach(function (r, i) {
      var ok = (!q || texts[i].indexOf(q) !== -1)
        && (!p || r.getAttribute("data-priority") === p)
        && (!overdue.checked || r.getAttribute("data-overdue") === "true")
        && (!openOnly.checked || r.getAttribute("data-status") === "open");
      r.classList.toggle("hidden", !ok);
      if (ok) { shown += 1; }
    });
    document.querySelectorAll("details.service").forEach(function (d) {
      var visible = d.querySelectorAll("tr.finding:not(.hidden)").length;
      d.classList.toggle("hidden", visible === 0);
      if (q && visible > 0) { d.open = true; }
    });
    count.textContent = shown + " of " + rows.length + " findings shown";
  }
  [search, priority, overdue, openOnly].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  apply();
})();
