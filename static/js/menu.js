/* A section list behind a menu button on small screens (the admin sidebar, the public
   site's links): each `.menu-button` shows once this script runs (without it the list
   stays visible), opens and closes the list it names with aria-controls, and says which
   it is (aria-expanded). Escape closes an open list and gives the focus back to its
   button. Wide screens hide the button through CSS and always show the list. */
(function () {
  "use strict";
  document.querySelectorAll(".menu-button[aria-controls]").forEach(function (button) {
    var list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list) {
      return;
    }
    list.classList.add("menu-ready");
    button.hidden = false;
    function show(open) {
      list.classList.toggle("open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      show(!list.classList.contains("open"));
    });
    list.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && list.classList.contains("open")) {
        show(false);
        button.focus();
      }
    });
  });
})();
