// The API docs page (/api/v1/docs): Swagger UI on the server's own OpenAPI document.
// A file, not an inline script, so the Content-Security-Policy can forbid inline script.
// Signed in with the session cookie, "Try it out" sends the session's CSRF token too;
// with an API token (Authorize), the token is enough.
(function () {
  "use strict";
  var csrfToken = null;
  fetch("/api/v1/me", { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) { if (me && me.csrf_token) { csrfToken = me.csrf_token; } })
    .catch(function () {});
  window.SwaggerUIBundle({
    url: document.body.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default badge would load from validator.swagger.io
    requestInterceptor: function (request) {
      if (csrfToken) { request.headers["X-CSRF-Token"] = csrfToken; }
      return request;
    },
  });
})();
