/* The admin's sections behind a menu button on small screens: the button shows once this
   script runs (without it the sections stay a list above the page), opens and closes the
   list, and says which it is (aria-expanded). Wide screens show the sidebar and no button. */
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  var nav = document.getElementById("admin-nav");
  if (!button || !nav) {
    return;
  }
  nav.classList.add("menu-ready");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
