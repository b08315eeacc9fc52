// The API reference page: Swagger UI over the document the server generates.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("api-reference");
  if (!box || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({ url: box.dataset.spec, domNode: box, validatorUrl: null, deepLinking: false });
});
