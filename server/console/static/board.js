// Live updates of the board: poll the stamp, re-read the board's body when it changed.
// The page works without this script (reload it); nothing here holds patient data.
(function () {
  "use strict";
  var live = document.getElementById("board-live");
  var status = document.getElementById("board-live-status");
  if (!live || !window.fetch) { return; }
  var stamp = live.getAttribute("data-stamp");
  var EVERY_MS = 4000;

  function say(text) { if (status) { status.textContent = text; } }

  function focusedHref() {
    var active = document.activeElement;
    return active && live.contains(active) ? active.getAttribute("href") : null;
  }

  function replace(html) {
    var href = focusedHref();
    live.innerHTML = html;  // our own server-rendered, autoescaped fragment
    if (href) {
      var again = live.querySelector('a[href="' + href.replace(/"/g, "") + '"]');
      if (again) { again.focus(); }
    }
  }

  function poll() {
    fetch(live.getAttribute("data-stamp-url"), {credentials: "same-origin",
                                                 headers: {"Accept": "application/json"}})
      .then(function (answer) {
        if (!answer.ok || answer.redirected) { throw new Error("signed out"); }
        return answer.json();
      })
      .then(function (body) {
        if (body.stamp === stamp) { return null; }
        return fetch(live.getAttribute("data-lanes-url"), {credentials: "same-origin"})
          .then(function (answer) {
            if (!answer.ok || answer.redirected) { throw new Error("signed out"); }
            return answer.text();
          })
          .then(function (html) {
            replace(html);
            stamp = body.stamp;
            say("Updated at " + new Date().toLocaleTimeString() + ".");
          });
      })
      .then(function () { window.setTimeout(poll, EVERY_MS); })
      .catch(function () { say("Live updates stopped: reload the page."); });
  }

  say("This board updates by itself.");
  window.setTimeout(poll, EVERY_MS);
}());
