// Demo page of the Digitale Assistent. The chat itself is the widget,
// loaded from the node with <script src="/widget.js" data-tenant=...>; this
// script only lets the example questions ask the widget. Loaded as an
// external script so that CSP script-src 'self' holds.
(function () {
  "use strict";

  function start() {
    var buttons = document.querySelectorAll("button[data-question]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        var question = button.getAttribute("data-question") || "";
        customElements.whenDefined("assistent-chat").then(function () {
          var widget = document.querySelector("assistent-chat");
          if (widget && typeof widget.ask === "function") {
            widget.ask(question);
          }
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
