/* aid-directory service worker: keeps the public pages a reader has opened, so they still open
   when the network drops (power cuts take the mobile network down too). A saved copy shown
   offline says when it was saved. Nothing is sent anywhere; the copies stay on the device. */
"use strict";
var PAGES = "pages-v1";
var ASSETS = "assets-v1";
var MAX_PAGES = 40;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== PAGES && k !== ASSETS; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPublicPage(url) {
  // Signed-in pages are personal: never kept.
  return !url.pathname.startsWith("/api/") && !/^\/[a-z-]+\/manage(\/|$)/.test(url.pathname);
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
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Saved-At", new Date().toISOString());
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
  event.respondWith(fetch(request).then(function (response) {
    event.waitUntil(savePage(request, response));
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(request.url).then(function (hit) {
        if (hit) return markOffline(hit);
        return Response.error();
      });
    });
  }));
});
