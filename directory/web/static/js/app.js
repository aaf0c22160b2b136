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
  // A refused or failed in-place action must never look like nothing happened. The message goes
  // right after the form or button that was used (where the person is looking), in the page's
  // language: taken from our own localised answer, or from <body data-msg-*> when there is none.
  function showProblem(elt, text) {
    var anchor = (elt && elt.closest && (elt.closest("form") || elt)) || document.querySelector("main");
    if (!anchor || !text) return;
    var box = anchor.nextElementSibling;
    if (!box || !box.hasAttribute("data-htmx-problem")) {
      box = document.createElement("p");
      box.setAttribute("data-htmx-problem", "");
      box.setAttribute("role", "alert");
      box.className = "flash danger m-flash m-error";
      anchor.parentNode.insertBefore(box, anchor.nextSibling);
    }
    box.textContent = text;
    box.tabIndex = -1;
    if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  }
  function messageOf(html) {
    // An error page: its heading and first message, e.g. "Not allowed. This change is outside
    // your regions." Only text is taken (textContent); nothing of it is run or inserted as HTML.
    try {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var main = doc.querySelector("main") || doc.body;
      var h1 = main.querySelector("h1");
      var p = main.querySelector("[role=alert], .m-error, .flash, main p, p");
      var parts = [h1 && h1.textContent.trim(), p && p.textContent.trim()].filter(Boolean);
      return parts.join(" ");
    } catch (err) { return ""; }
  }
  function bodyText(name) { return document.body.getAttribute("data-msg-" + name) || ""; }
  function clearProblem(elt) {
    var anchor = elt && elt.closest && (elt.closest("form") || elt);
    var box = anchor && anchor.nextElementSibling;
    if (box && box.hasAttribute("data-htmx-problem")) box.remove();
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status < 400) { clearProblem(e.detail.requestConfig && e.detail.requestConfig.elt); return; }
    var html = xhr.responseText || "";
    var fragment = !/^\s*<!doctype/i.test(html);
    if (fragment && xhr.status < 500 && html.trim()) {
      // Our own answer for this spot (a form with its error, a refused quick action): show it.
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      return;
    }
    e.detail.shouldSwap = false;
    showProblem(e.detail.requestConfig && e.detail.requestConfig.elt || e.detail.elt,
      (fragment ? "" : messageOf(html)) || bodyText("failed"));
  });
  // No network for an in-place update: load the page normally instead (maybe saved offline);
  // a change that could not be sent says so (nothing was saved).
  function noNetwork(e) {
    var cfg = e.detail && e.detail.requestConfig;
    var path = e.detail && e.detail.pathInfo && e.detail.pathInfo.finalRequestPath;
    if (path && cfg && cfg.verb === "get") { window.location.assign(path); return; }
    showProblem(e.detail && e.detail.elt, bodyText("offline"));
  }
  document.addEventListener("htmx:sendError", noNetwork);
  document.addEventListener("htmx:timeout", noNetwork);

  // The offline page: the pages saved on this device (by sw.js), newest first, with the time
  // each was saved in the page's language. Read from the cache; nothing leaves the device.
  function listSaved(list) {
    var none = document.querySelector("[data-saved-none]");
    if (!("caches" in window)) return;
    var lang = document.documentElement.lang || "en";
    var label = list.getAttribute("data-saved-label") || "{time}";
    caches.open("pages-v1").then(function (cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.map(function (req) {
          return cache.match(req).then(function (res) {
            return { url: req.url, at: res.headers.get("X-Saved-At") || "",
                     title: decodeURIComponent(res.headers.get("X-Saved-Title") || "") };
          });
        }));
      });
    }).then(function (items) {
      items.sort(function (a, b) { return a.at < b.at ? 1 : -1; });
      var fmt = null;
      try { fmt = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }); }
      catch (err) { fmt = null; }
      items.forEach(function (item) {
        var url = new URL(item.url);
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = url.pathname + url.search;
        a.textContent = (item.title || url.pathname).replace(/ · [^·]*$/, "");
        var when = document.createElement("time");
        when.dateTime = item.at;
        when.textContent = item.at && fmt ? fmt.format(new Date(item.at)) : item.at;
        var meta = document.createElement("span");
        meta.className = "meta";
        var parts = label.split("{time}");
        meta.appendChild(document.createTextNode(" · " + parts[0]));
        meta.appendChild(when);
        meta.appendChild(document.createTextNode(parts.slice(1).join("")));
        li.appendChild(a);
        li.appendChild(meta);
        list.appendChild(li);
      });
      if (none && items.length) none.hidden = true;
    }).catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.querySelector("[data-saved-pages]");
    if (list) listSaved(list);
  });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
      // Keep the page being read (the worker skips personal and offline pages itself).
      if (navigator.serviceWorker.ready && !document.querySelector("[data-saved-pages]")) {
        navigator.serviceWorker.ready.then(function (reg) {
          if (reg.active) reg.active.postMessage({ save: window.location.href });
        });
      }
    });
  }
})();

/* Alert board (templates/_notices.html): htmx polls it every 30 s; no request while the tab is
   hidden (a phone in a pocket spends nothing), and one as soon as it is shown again. */
document.addEventListener("htmx:beforeRequest", function (e) {
  var elt = e.detail && e.detail.elt;
  if (document.hidden && elt && elt.hasAttribute && elt.hasAttribute("data-poll")) e.preventDefault();
});
