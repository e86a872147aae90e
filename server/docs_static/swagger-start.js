// Starts Swagger UI on /api/docs from the settings the page holds in data attributes
// (server/templates/swagger_ui.html): a file, because the page's CSP allows no inline script.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = JSON.parse(container.getAttribute("data-config") || "{}");
  config.url = container.getAttribute("data-spec-url");
  config.dom_id = "#swagger-ui-container";
  window.ui = SwaggerUIBundle(config);
});
