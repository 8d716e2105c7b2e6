// Small progressive enhancements. The pages work without this file.
(function () {
  "use strict";

  function cookie(name) {
    const prefix = name + "=";
    for (const part of document.cookie.split(";")) {
      const item = part.trim();
      if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
    }
    return "";
  }

  // Article pages carry no CSRF token (they are cached and shared); the
  // uncached panel fragment sets the cookie, and every htmx request sends it.
  document.addEventListener("htmx:configRequest", function (event) {
    const token = cookie("csrftoken");
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });
})();
