// Live view: a page of a running run polls the viewer, which tails samples.jsonl,
// and reloads when new samples have landed. No inline script: served as a file.
(function () {
  var body = document.body;
  var url = body.getAttribute("data-poll");
  if (!url) return;
  var gen = body.getAttribute("data-gen");
  function tick() {
    fetch(url, { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (String(j.gen) !== gen) { location.reload(); return; }
        if (j.live) setTimeout(tick, 2000);
        else location.reload();
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
