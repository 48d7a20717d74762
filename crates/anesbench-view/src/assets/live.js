// Live view: a page of a running run polls the viewer, which tails samples.jsonl from
// the last offset it indexed. When new samples have landed, the page is fetched again
// and every element marked data-live is replaced in place (the filter form, scroll
// position and open details stay as they are). Served as a file: no inline script, no
// inline handlers, so the page policy stays strict.
(function () {
  var body = document.body;
  var url = body.getAttribute("data-poll");
  if (!url) return;
  var gen = body.getAttribute("data-gen");
  var status = document.getElementById("live-status");
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = document.querySelectorAll("[data-live]");
    for (var i = 0; i < parts.length; i++) {
      var fresh = doc.getElementById(parts[i].id);
      if (fresh) parts[i].replaceWith(document.importNode(fresh, true));
    }
    var g = doc.body.getAttribute("data-gen");
    if (g !== null) gen = g;
    body.setAttribute("data-gen", gen);
    body.setAttribute("data-updates", String(Number(body.getAttribute("data-updates") || 0) + 1));
    return doc.body.getAttribute("data-poll") !== null;
  }
  function tick() {
    fetch(url, { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (status) status.textContent = j.samples + " samples";
        if (String(j.gen) === gen && j.live) { setTimeout(tick, 1000); return; }
        return fetch(location.href, { cache: "no-store" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var still = swap(html);
            if (still && j.live) setTimeout(tick, 1000);
          });
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 1000);
})();
