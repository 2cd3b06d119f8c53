"use strict";
(function () {
  var svg = document.getElementById("callgraph");
  var nodes = svg ? Array.prototype.slice.call(svg.querySelectorAll("g.node")) : [];
  var hits = document.getElementById("graph-hits");
  var box = document.getElementById("graph-box");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-mark]"));
  // Scrolls the graph's box (not the page) to a node, at the SVG's scale.
  function centre(g) {
    var r = g.querySelector("rect");
    var scale = svg.clientWidth / svg.viewBox.baseVal.width;
    var x = (+r.getAttribute("x") + r.getAttribute("width") / 2) * scale;
    var y = (+r.getAttribute("y") + r.getAttribute("height") / 2) * scale;
    box.scrollLeft = x - box.clientWidth / 2;
    box.scrollTop = y - box.clientHeight / 2;
  }
  // One highlight at a time: a search or one of the views.
  function highlight(test, label) {
    var n = 0;
    nodes.forEach(function (g) {
      var on = test !== null && test(g);
      g.classList.toggle("hit", on);
      if (on) n += 1;
    });
    svg.classList.toggle("dim", test !== null);
    hits.textContent = test === null ? "" : n + " " + label;
    var first = svg.querySelector("g.node.hit");
    if (first) centre(first);
  }
  var search = document.getElementById("graph-search");
  if (search && svg) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      buttons.forEach(function (b) { b.classList.remove("on"); });
      highlight(q === "" ? null : function (g) {
        return g.getAttribute("data-name").toLowerCase().indexOf(q) >= 0;
      }, "matching");
    });
  }
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      var on = !b.classList.contains("on");
      buttons.forEach(function (o) { o.classList.remove("on"); });
      b.classList.toggle("on", on);
      var mark = b.getAttribute("data-mark");
      highlight(on ? function (g) {
        return g.classList.contains(mark) ||
          (" " + g.getAttribute("data-marks") + " ").indexOf(" " + mark + " ") >= 0;
      } : null, b.textContent);
    });
  });
  var fit = document.getElementById("graph-fit");
  if (fit && svg) {
    fit.addEventListener("click", function () {
      fit.classList.toggle("on", svg.classList.toggle("fit"));
    });
  }
  // First view: on a diff page what only one trace needs, else where the
  // program's own kernel work starts (the execve subtree); its leftmost node.
  var roots = nodes.filter(function (g) {
    return g.classList.contains("only-a") || g.classList.contains("only-b");
  });
  if (roots.length === 0) {
    roots = nodes.filter(function (g) {
      return (" " + g.getAttribute("data-marks") + " ").indexOf(" execve ") >= 0;
    });
  }
  roots.sort(function (a, b) {
    return a.querySelector("rect").getAttribute("x") - b.querySelector("rect").getAttribute("x");
  });
  if (roots.length > 0) centre(roots[0]);
  // `page.html#q=fault`: a search to link to, done on load.
  var m = /^#q=(.+)$/.exec(location.hash);
  if (m && search) {
    search.value = decodeURIComponent(m[1]);
    search.dispatchEvent(new Event("input"));
  }
  Array.prototype.forEach.call(document.querySelectorAll("input.list-search"), function (input) {
    var table = document.getElementById(input.getAttribute("data-list"));
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.rows, function (row, i) {
        if (i > 0) row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
  // The script ran to its end: the browser test looks for this.
  document.documentElement.setAttribute("data-script", "ran");
})();
