// Demo page of the Digitale Assistent: sends the question to the node's ask
// API and shows the answer, its sources and the referral to the gemeente.
// Loaded as an external script so that CSP script-src 'self' holds. Text
// from the server is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  var TIMEOUT_MS = 60000;

  var text = {
    empty: "Stel een vraag. Het vraagveld is leeg.",
    waiting: "Even geduld, de assistent zoekt een antwoord…",
    failed: "Er ging iets mis. Probeer het later opnieuw of neem contact op met de gemeente.",
    offline: "De assistent is nu niet bereikbaar. Controleer uw internetverbinding en probeer het opnieuw.",
    timeout: "Het duurde te lang om een antwoord te vinden. Probeer het opnieuw.",
    sources: "Bronnen",
    refused: "De assistent weet hierop geen betrouwbaar antwoord.",
    contact: "Contact met de gemeente",
    phone: "Bel ",
    form: "Stel uw vraag via het contactformulier",
    hours: "Openingstijden: ",
    confidence: "Zekerheid: ",
    route: "route: "
  };

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined && content !== null) {
      node.textContent = String(content);
    }
    return node;
  }

  // safeURL returns url when it is an absolute http(s) address, else "".
  function safeURL(url) {
    if (typeof url !== "string") {
      return "";
    }
    var u = url.trim();
    return /^https?:/i.test(u) ? u : "";
  }

  function link(href, label) {
    var a = el("a", null, label);
    a.href = href;
    a.rel = "noopener noreferrer";
    return a;
  }

  function renderCitations(citations) {
    var box = el("div", "citations");
    box.appendChild(el("h3", null, text.sources));
    var list = el("ol");
    citations.forEach(function (c) {
      if (!c) {
        return;
      }
      var li = el("li");
      var label = c.title || c.url || c.id || "";
      var href = safeURL(c.url);
      li.appendChild(href ? link(href, label) : document.createTextNode(label));
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  }

  function renderHandoff(h) {
    var box = el("div", "handoff");
    box.appendChild(el("h3", null, text.contact));
    if (h.message) {
      box.appendChild(el("p", null, h.message));
    }
    if (h.phone) {
      var p = el("p", null, text.phone);
      var digits = String(h.phone).replace(/\s+/g, "");
      if (/^\+?[0-9-]+$/.test(digits)) {
        var tel = el("a", null, h.phone);
        tel.href = "tel:" + digits;
        p.appendChild(tel);
      } else {
        p.appendChild(document.createTextNode(String(h.phone)));
      }
      box.appendChild(p);
    }
    var contact = safeURL(h.contact_url);
    if (contact) {
      var pc = el("p");
      pc.appendChild(link(contact, text.form));
      box.appendChild(pc);
    }
    if (h.hours) {
      box.appendChild(el("p", null, text.hours + h.hours));
    }
    return box;
  }

  function renderAnswer(data) {
    var out = document.createDocumentFragment();
    var answerText = data.answer || (data.refused ? text.refused : "");
    if (answerText) {
      out.appendChild(el("p", "answer", answerText));
    }
    if (Array.isArray(data.citations) && data.citations.length > 0) {
      out.appendChild(renderCitations(data.citations));
    }
    if (data.handoff && typeof data.handoff === "object") {
      out.appendChild(renderHandoff(data.handoff));
    }
    var meta = [];
    if (typeof data.confidence === "number" && isFinite(data.confidence)) {
      meta.push(text.confidence + Math.round(data.confidence * 100) + "%");
    }
    if (data.route) {
      meta.push(text.route + data.route);
    }
    if (meta.length > 0) {
      out.appendChild(el("p", "status", meta.join(" · ")));
    }
    return out;
  }

  function start() {
    var body = document.body;
    var tenant = (body && body.getAttribute("data-tenant")) || "";
    var form = document.getElementById("ask-form");
    var input = document.getElementById("vraag");
    var button = document.getElementById("ask-button");
    var region = document.getElementById("result");
    if (!form || !input || !button || !region || !tenant) {
      return;
    }
    var endpoint = "/api/v1/tenants/" + encodeURIComponent(tenant) + "/ask";
    var content = el("div", "result-body");
    region.appendChild(content);
    var busy = false;

    function show(node) {
      content.replaceChildren(node);
    }

    function showError(message) {
      show(el("p", "error", message));
    }

    function done() {
      busy = false;
      button.disabled = false;
      region.removeAttribute("aria-busy");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) {
        return;
      }
      var question = input.value.trim();
      if (!question) {
        showError(text.empty);
        input.focus();
        return;
      }
      busy = true;
      button.disabled = true;
      region.setAttribute("aria-busy", "true");
      show(el("p", "status", text.waiting));

      var controller = typeof AbortController === "function" ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;

      fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json, application/problem+json"
        },
        body: JSON.stringify({ question: question }),
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (resp) {
        return resp.json().then(function (data) {
          return { ok: resp.ok, data: data };
        }, function () {
          return { ok: false, data: null };
        });
      }).then(function (res) {
        if (!res.ok || !res.data || typeof res.data !== "object") {
          var detail = res.data && typeof res.data.detail === "string" && res.data.detail;
          showError(detail || text.failed);
          return;
        }
        show(renderAnswer(res.data));
      }).catch(function (err) {
        showError(err && err.name === "AbortError" ? text.timeout : text.offline);
      }).then(function () {
        if (timer) {
          clearTimeout(timer);
        }
        done();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
