// Tell the server the browser's time zone, so times show in the agent's own zone (dashboard.middleware).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax; max-age=31536000";
    }
  } catch (e) { /* old browser: times stay in the server's zone */ }
})();

// A form sent back with errors: bring its first field in error into view and put the cursor there, opening the
// <details> it sits in. What was typed is kept by the server (the bound form is rendered again).
(function () {
  var FIELDS = ".has-error input:not([type=hidden]), .has-error select, .has-error textarea, [aria-invalid=true]";

  function focusFirstError(root) {
    var field = (root || document).querySelector(FIELDS);
    if (!field) { return; }
    for (var node = field.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    field.scrollIntoView({ block: "center" });
    try { field.focus({ preventScroll: true }); } catch (e) { field.focus(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusFirstError(document); });
  } else {
    focusFirstError(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { focusFirstError(event.target); });
})();
