/* aid-directory service worker: keeps the public pages a reader has opened, so they still open
   when the network drops (power cuts take the mobile network down too). A saved copy shown
   offline says when it was saved; a page never saved answers with the offline page in the
   reader's language, which lists the saved ones (app.js). Nothing is sent anywhere; the copies
   stay on the device. */
"use strict";
var PAGES = "pages-v1";
var ASSETS = "assets-v1";
var OFFLINE = "offline-v1";
var MAX_PAGES = 40;
// The site's languages (the server writes the configured list here when it serves this file).
var LOCALES = ["en", "uk", "ru", "pl", "de", "ar"];

// Installing keeps the "you are offline" page of every language and the files it needs, so a
// page never saved still answers in the reader's language instead of the browser's error page.
function precacheOffline() {
  return caches.open(OFFLINE).then(function (offline) {
    return Promise.all(LOCALES.map(function (code) {
      var url = "/" + code + "/offline";
      return fetch(url, { credentials: "omit" }).then(function (response) {
        if (!response.ok) return;
        return response.clone().text().then(function (html) {
          var assets = [], re = /(?:href|src)="(\/static\/[^"]+)"/g, m;
          while ((m = re.exec(html))) assets.push(m[1]);
          return offline.put(url, response).then(function () {
            return caches.open(ASSETS).then(function (cache) {
              return Promise.all(assets.map(function (a) {
                return cache.match(a).then(function (hit) { return hit || cache.add(a); });
              }));
            });
          });
        });
      }).catch(function () { /* offline while installing: try again next time */ });
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(precacheOffline().then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== PAGES && k !== ASSETS && k !== OFFLINE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPublicPage(url) {
  // Signed-in pages are personal: never kept.
  return !url.pathname.startsWith("/api/") && !/^\/[a-z-]+\/manage(\/|$)/.test(url.pathname) &&
    !/^\/[a-z-]+\/(offline|manifest\.webmanifest)$/.test(url.pathname);
}

function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES))
      .map(function (k) { return cache.delete(k); }));
  });
}

function savePage(request, response) {
  if (!response.ok || response.type !== "basic") return Promise.resolve();
  var type = response.headers.get("Content-Type") || "";
  if (type.indexOf("text/html") !== 0 || response.headers.has("Set-Cookie")) return Promise.resolve();
  return response.clone().text().then(function (body) {
    var headers = new Headers(response.headers);
    var title = (/<title>([^<]*)<\/title>/.exec(body) || [])[1] || "";
    headers.set("X-Saved-At", new Date().toISOString());
    // For the list on the offline page (header values must be ASCII: percent-encoded).
    headers.set("X-Saved-Title", encodeURIComponent(title));
    return caches.open(PAGES).then(function (cache) {
      return cache.delete(request.url).then(function () {
        return cache.put(request.url, new Response(body, { status: 200, headers: headers }));
      }).then(function () { return trim(cache); });
    });
  });
}

function markOffline(response) {
  var saved = response.headers.get("X-Saved-At") || "";
  return response.text().then(function (html) {
    var lang = (/<html lang="([^"]+)"/.exec(html) || [])[1] || "en";
    var label = saved;
    try {
      label = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" })
        .format(new Date(saved));
    } catch (e) { /* keep the ISO time */ }
    html = html.replace("data-offline-mark hidden", "data-offline-mark")
      .replace("<time data-saved-at></time>", '<time datetime="' + saved + '">' + label + "</time>");
    return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    // Hashed names never change: the first copy is good forever.
    event.respondWith(caches.open(ASSETS).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) cache.put(request, response.clone());
          return response;
        });
      });
    }));
    return;
  }
  if (request.mode !== "navigate" || !isPublicPage(url)) return;
  // Revalidate with the server (ETag: cheap) rather than take the browser's HTTP cache: online,
  // a status ("full", "closed") is never older than the server's; offline, the saved copy says
  // when it was saved instead of passing for a fresh page.
  event.respondWith(fetch(request, { cache: "no-cache" }).then(function (response) {
    event.waitUntil(savePage(request, response));
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url).then(function (hit) {
        if (hit) return markOffline(hit);
        var code = url.pathname.split("/")[1];
        if (LOCALES.indexOf(code) < 0) code = LOCALES[0];
        return caches.open(OFFLINE).then(function (offline) {
          return offline.match("/" + code + "/offline");
        }).then(function (page) { return page || Response.error(); });
      });
    });
  }));
});

// app.js asks to keep the page the reader is on: the first page of a visit is loaded before this
// worker controls it, and would otherwise not be saved.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (!data.save) return;
  var url = new URL(data.save, self.location.origin);
  if (url.origin !== self.location.origin || !isPublicPage(url)) return;
  var request = new Request(url.href, { credentials: "omit" });
  event.waitUntil(caches.open(PAGES).then(function (cache) {
    return cache.match(url.href);
  }).then(function (hit) {
    if (hit) return;
    return fetch(request).then(function (response) { return savePage(request, response); })
      .catch(function () {});
  }));
});
