/* Progressive enhancement only: every page works without this file.
   - "Near me": asks for the position only on a press, rounds it to 2 decimals (about 1 km)
     on the phone, and sends it as a plain query parameter (never stored).
   - "Print this list" button; the service worker (offline copies); a failed htmx request
     falls back to a normal page load (which the service worker may answer from its copy). */
(function () {
  "use strict";

  function round2(x) { return (Math.round(x * 100) / 100).toFixed(2); }

  function nearMe(button) {
    var form = button.closest("form");
    if (!form || !("geolocation" in navigator)) return;
    button.hidden = false;
    var hint = form.querySelector("[data-near-hint]");
    if (hint) hint.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var near = form.querySelector("input[name=near]");
        if (!near) {
          near = document.createElement("input");
          near.type = "hidden"; near.name = "near"; form.appendChild(near);
        }
        near.value = round2(pos.coords.latitude) + "," + round2(pos.coords.longitude);
        var sort = form.querySelector("[name=sort]");
        if (sort) sort.value = "distance";
        button.disabled = false;
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }, function () {
        button.disabled = false;
        var msg = document.createElement("p");
        msg.className = "error"; msg.setAttribute("role", "alert");
        msg.textContent = button.getAttribute("data-error");
        button.parentNode.appendChild(msg);
      }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
  }

  function init(root) {
    // Wide screens have room for the filters beside the results: show them open.
    if (window.matchMedia("(min-width: 60rem)").matches) {
      root.querySelectorAll("details.more").forEach(function (d) { d.open = true; });
    }
    root.querySelectorAll("[data-near-me]").forEach(nearMe);
    root.querySelectorAll("[data-share]").forEach(function (b) {
      if (!navigator.share && !(navigator.clipboard && window.isSecureContext)) return;
      b.hidden = false;
      b.addEventListener("click", function () {
        var url = window.location.href;
        if (navigator.share) {
          navigator.share({ title: document.title, url: url }).catch(function () {});
        } else {
          navigator.clipboard.writeText(url).then(function () {
            b.querySelector("span").textContent = b.getAttribute("data-done");
          });
        }
      });
    });
    root.querySelectorAll("[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (e) {
    init(e.target);
  });
  // Shorter shareable links: leave empty fields and defaults out of in-place searches (only the
  // public search form; other forms may mean "clear this field" with an empty value).
  document.addEventListener("htmx:configRequest", function (e) {
    var params = e.detail.parameters, drop = [], elt = e.detail.elt;
    if (e.detail.verb !== "get" || !elt || !elt.closest || !elt.closest("form[data-search]")) return;
    if (!params || typeof params.forEach !== "function") return;
    params.forEach(function (value, key) {
      if (value === "" || (key === "sort" && value === "relevance")) drop.push(key);
    });
    drop.forEach(function (key) { params.delete(key); });
  });
  // No network for an in-place update: load the page normally instead (maybe saved offline).
  document.addEventListener("htmx:sendError", function (e) {
    var cfg = e.detail && e.detail.requestConfig;
    var path = e.detail && e.detail.pathInfo && e.detail.pathInfo.finalRequestPath;
    if (path && cfg && cfg.verb === "get") window.location.assign(path);
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();

/* Alert board (templates/_notices.html): htmx polls it every 30 s; no request while the tab is
   hidden (a phone in a pocket spends nothing), and one as soon as it is shown again. */
document.addEventListener("htmx:beforeRequest", function (e) {
  var elt = e.detail && e.detail.elt;
  if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) e.preventDefault();
});
