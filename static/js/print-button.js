/* A button that prints the page (the page's print styles leave out the navigation). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
