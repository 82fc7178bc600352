// segport's pages: the only script besides htmx (no inline script: the CSP forbids it).
// htmx requests carry the session's CSRF token (from <meta name="csrf-token">) as the
// X-CSRF-Token header, as the API wants; plain forms carry it as the csrf_token field.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});
