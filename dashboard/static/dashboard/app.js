// Tell the server the browser's time zone, so times show in the agent's own zone (dashboard.middleware).
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax; max-age=31536000";
    }
  } catch (e) { /* old browser: times stay in the server's zone */ }
})();

// The language menu submits on change (no inline handler: the Content-Security-Policy allows only our scripts).
document.addEventListener("change", function (event) {
  if (event.target.matches && event.target.matches("select[data-submit-on-change]")) {
    event.target.form.submit();
  }
});
