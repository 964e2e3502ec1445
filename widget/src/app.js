// Assistent chat widget: the <assistent-chat> custom element, and a
// launcher for it when the script tag has data-tenant. Served whole at
// /widget.js and, content-hashed, at /widget/app.<hash>.js.
// No framework, no dependencies, no eval, no HTML parsing: every text from
// the server is set with textContent, and links come only from citations
// and the referral, and only with http(s) or tel: addresses.
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || customElements.get("assistent-chat")) return;
  performance.mark("assistent:start");
  // The script is BASE/widget.js or BASE/widget/app.<hash>.js; the API is
  // at BASE/api/v1/.
  const BASE = new URL(/\/widget\/[^/]*$/.test(new URL(me.src).pathname) ? "../" : "./", me.src);
  // The node puts the stylesheet and its address here when it serves the
  // bundle.
  const CSS = "/*CSS*/";
  const CSS_URL = new URL("/*CSS_URL*/", BASE).href;

  const TEXT = {
    nl: {
      launcher: "Stel uw vraag",
      title: "Digitale assistent",
      close: "Sluiten",
      fresh: "Nieuw gesprek",
      privacy: "Stel geen vragen met persoonsgegevens, zoals uw BSN.",
      intro: "Ik beantwoord vragen met informatie van de gemeente en de Rijksoverheid. Mijn antwoorden kunnen fouten bevatten: controleer ze via de bronnen.",
      log: "Gesprek",
      label: "Uw vraag",
      send: "Verstuur",
      you: "U vroeg:",
      bot: "Antwoord van de assistent:",
      waiting: "De assistent zoekt een antwoord…",
      sources: "Bronnen",
      source: "bron",
      newTab: "(opent in een nieuw tabblad)",
      refused: "Hierop weet ik geen betrouwbaar antwoord.",
      suggest: "Ik weet niet zeker of dit uw vraag beantwoordt. Deze pagina's gaan erover:",
      human: "Contact met de gemeente",
      call: "Bel ",
      form: "Stel uw vraag via het contactformulier",
      hours: "Bereikbaar: ",
      helpful: "Was dit antwoord nuttig?",
      yes: "Ja",
      no: "Nee",
      thanks: "Bedankt voor uw reactie.",
      feedbackFailed: "Uw reactie is niet verstuurd. Probeer het later opnieuw.",
      empty: "Typ eerst uw vraag.",
      failed: "Er ging iets mis. Probeer het later opnieuw of neem contact op met de gemeente.",
      offline: "De assistent is nu niet bereikbaar. Controleer uw internetverbinding en probeer het opnieuw.",
      unavailable: "De assistent is op deze website nu niet beschikbaar. Neem contact op met de gemeente.",
      answer: "Antwoord: ",
      withSources: " Met {n} bronnen.",
    },
    en: {
      launcher: "Ask a question",
      title: "Digital assistant",
      close: "Close",
      fresh: "New conversation",
      privacy: "Do not include personal data, such as your BSN, in your questions.",
      intro: "I answer questions with information from the municipality and the Dutch central government, in Dutch. My answers may contain mistakes: check them in the sources.",
      log: "Conversation",
      label: "Your question",
      send: "Send",
      you: "You asked:",
      bot: "The assistant's answer:",
      waiting: "The assistant is looking for an answer…",
      sources: "Sources",
      source: "source",
      newTab: "(opens in a new tab)",
      refused: "I do not have a reliable answer to this.",
      suggest: "I am not sure this answers your question. These pages are about it:",
      human: "Contact the municipality",
      call: "Call ",
      form: "Ask your question with the contact form",
      hours: "Opening hours: ",
      helpful: "Was this answer helpful?",
      yes: "Yes",
      no: "No",
      thanks: "Thank you for your feedback.",
      feedbackFailed: "Your feedback was not sent. Please try again later.",
      empty: "Please type your question first.",
      failed: "Something went wrong. Please try again later or contact the municipality.",
      offline: "The assistant cannot be reached. Check your internet connection and try again.",
      unavailable: "The assistant is not available on this website now. Please contact the municipality.",
      answer: "Answer: ",
      withSources: " With {n} sources.",
    },
  };

  const WS_OPEN_WAIT = 4000; // wait this long for a socket before using REST
  const WS_MAX_FAILS = 3; // after this many failed connects, REST only
  const REST_TIMEOUT = 60000;
  let seq = 0;

  // el creates an element with a class and, optionally, text.
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  };
  // webURL returns url when it is an absolute http(s) address, else "".
  const webURL = (url) => {
    if (typeof url !== "string") return "";
    try {
      const u = new URL(url.trim());
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : "";
    } catch {
      return "";
    }
  };

  class AssistentChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.tenant = this.getAttribute("tenant") || "";
      const lang = (this.getAttribute("lang") || me.getAttribute("data-lang") || "nl").slice(0, 2).toLowerCase();
      this.t = TEXT[lang] || TEXT.nl;
      this.uiLang = TEXT[lang] ? lang : "nl";
      this.floating = this.hasAttribute("launcher");
      this.conversation = "";
      this.turns = new Map(); // question id -> turn
      this.busy = false;
      this.ws = null;
      this.wsReady = null;
      this.wsFails = 0;
      this.retry = 0;
      this.build();
    }

    disconnectedCallback() {
      this.closeSocket();
    }

    // build draws the launcher at once and the panel only when it is
    // first needed, so the launcher appears fast.
    build() {
      const root = this.attachShadow({ mode: "open" });
      if ("adoptedStyleSheets" in Document.prototype && CSS.length > 10) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
      } else {
        const link = el("link");
        link.rel = "stylesheet";
        link.href = CSS_URL;
        root.append(link);
      }
      this.wrap = el("div", "wrap " + (this.floating ? "floating" : "inline"));
      this.wrap.lang = this.uiLang;
      root.append(this.wrap);
      if (!this.floating) {
        this.buildPanel();
        return;
      }
      const launcher = el("button", "launcher");
      launcher.type = "button";
      launcher.setAttribute("part", "launcher");
      launcher.setAttribute("aria-expanded", "false");
      launcher.append(this.icon(), el("span", null, this.t.launcher));
      launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
      this.launcher = launcher;
      this.wrap.append(launcher);
      performance.mark("assistent:launcher");
    }

    buildPanel() {
      const t = this.t;
      const panel = el("section", "panel");
      panel.id = "panel";
      const title = el("h2", "title", t.title);
      title.id = "title";
      panel.setAttribute("aria-labelledby", "title");
      const head = el("div", "head");
      head.append(title);

      if (this.floating) {
        panel.setAttribute("role", "dialog");
        panel.hidden = true;
        const close = el("button", "close");
        close.type = "button";
        close.setAttribute("aria-label", t.close);
        close.append(this.cross());
        close.addEventListener("click", () => this.close());
        head.append(close);
        panel.addEventListener("keydown", (e) => this.onKey(e));
        this.launcher.setAttribute("aria-controls", "panel");
      } else {
        panel.setAttribute("role", "region");
      }

      const privacy = el("p", "privacy", t.privacy);
      privacy.id = "privacy";
      const log = el("ol", "log");
      log.setAttribute("part", "log");
      log.setAttribute("aria-label", t.log);
      log.tabIndex = 0;
      const intro = el("p", "intro", t.intro);
      const live = el("div", "sr");
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      live.setAttribute("aria-atomic", "true");

      const form = el("form", "ask");
      form.noValidate = true;
      const label = el("label", null, t.label);
      label.htmlFor = "q";
      const input = el("textarea");
      input.id = "q";
      input.rows = 2;
      input.maxLength = 1000;
      input.autocomplete = "off";
      input.setAttribute("part", "input");
      input.setAttribute("aria-describedby", "privacy");
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          form.requestSubmit();
        }
      });
      const send = el("button", "send", t.send);
      send.type = "submit";
      const row = el("div", "row");
      row.append(input, send);
      const fresh = el("button", "fresh", t.fresh);
      fresh.type = "button";
      fresh.addEventListener("click", () => this.reset());
      form.append(label, row, fresh);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.submit();
      });

      panel.append(head, privacy, intro, log, live, form);
      this.wrap.append(panel);
      Object.assign(this, { panel, log, live, input, intro });
    }

    // icon and cross draw small SVG symbols; they are decorative.
    icon() {
      return this.svg("M4 4h16v11H8l-4 4z", "none");
    }
    cross() {
      return this.svg("M6 6l12 12M18 6L6 18", "none");
    }
    // thumb is 👍, drawn, so it looks the same without an emoji font; CSS
    // turns it over for 👎.
    thumb() {
      return this.svg("M3 10h4v10H3zM7 10l4-7c1.5 0 2.5 1 2.2 2.6L12.6 9H19a2 2 0 0 1 2 2.3l-1.2 6.9A2 2 0 0 1 17.8 20H7", "none");
    }
    svg(d, fill) {
      const ns = "http://www.w3.org/2000/svg";
      const s = document.createElementNS(ns, "svg");
      s.setAttribute("viewBox", "0 0 24 24");
      s.setAttribute("aria-hidden", "true");
      s.setAttribute("focusable", "false");
      const p = document.createElementNS(ns, "path");
      p.setAttribute("d", d);
      p.setAttribute("fill", fill);
      s.append(p);
      return s;
    }

    isOpen() {
      return this.floating && !!this.panel && !this.panel.hidden;
    }

    // open shows the panel of a launcher widget and puts focus in the
    // question field. Public: host pages may call it.
    open() {
      if (!this.floating) return;
      if (!this.panel) this.buildPanel();
      this.panel.hidden = false;
      this.wrap.classList.add("open");
      this.launcher.setAttribute("aria-expanded", "true");
      this.syncModal();
      this.input.focus();
      const last = this.log.lastElementChild;
      if (last) this.follow({ li: last });
      this.connect().catch(() => {});
    }

    close() {
      if (!this.isOpen()) return;
      this.panel.hidden = true;
      this.wrap.classList.remove("open");
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    // syncModal makes the full-screen panel of small screens modal.
    syncModal() {
      const modal = matchMedia("(max-width: 40em)").matches;
      if (modal) this.panel.setAttribute("aria-modal", "true");
      else this.panel.removeAttribute("aria-modal");
      return modal;
    }

    onKey(e) {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.close();
        return;
      }
      if (e.key !== "Tab" || !this.syncModal()) return;
      // Keep focus inside the full-screen dialog.
      const all = [...this.panel.querySelectorAll("a[href],button:not([disabled]),textarea,[tabindex='0']")].filter((x) => x.offsetParent !== null);
      if (!all.length) return;
      const first = all[0];
      const last = all[all.length - 1];
      const active = this.shadowRoot.activeElement;
      if (e.shiftKey && active === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && active === last) {
        e.preventDefault();
        first.focus();
      }
    }

    reset() {
      this.turns.clear();
      this.conversation = "";
      this.busy = false;
      this.log.replaceChildren();
      this.live.textContent = "";
      this.intro.hidden = false;
      this.input.value = "";
      this.input.focus();
    }

    submit() {
      const text = this.input.value.trim();
      if (this.busy) return;
      if (!text) {
        this.announce(this.t.empty);
        this.input.focus();
        return;
      }
      this.input.value = "";
      this.send(text);
    }

    // ask opens the widget and asks a question, as if the resident typed
    // it; false while another question is being answered. Public: a host
    // page may offer example questions.
    ask(text) {
      text = String(text || "").trim();
      if (!text || !this.shadowRoot) return false;
      if (this.floating) this.open();
      if (this.busy) return false;
      this.send(text);
      return true;
    }

    announce(msg) {
      this.live.textContent = msg;
    }

    // send shows the question and sends it over the WebSocket when one is
    // (or soon will be) open, otherwise over REST.
    send(text) {
      this.busy = true;
      this.intro.hidden = true;
      this.live.textContent = "";
      const id = "q" + ++seq + "-" + Math.random().toString(36).slice(2, 8);
      const turn = this.addTurn(id, text);
      this.turns.set(id, turn);
      const msg = { type: "ask", id, text };
      if (this.conversation) msg.conversation = this.conversation;
      if (this.wsFails >= WS_MAX_FAILS) {
        this.rest(turn);
        return;
      }
      const ready = this.connect();
      const timer = new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), WS_OPEN_WAIT));
      Promise.race([ready, timer]).then(
        (ws) => {
          turn.via = "ws";
          ws.send(JSON.stringify(msg));
        },
        () => this.rest(turn),
      );
    }

    // connect returns a promise of an open socket, opening one if needed.
    connect() {
      if (this.wsReady) return this.wsReady;
      if (this.wsFails >= WS_MAX_FAILS || !this.tenant) return Promise.reject(new Error("no socket"));
      const url = new URL("api/v1/tenants/" + encodeURIComponent(this.tenant) + "/chat", BASE);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      let ws;
      try {
        ws = new WebSocket(url.href);
      } catch {
        this.wsFails = WS_MAX_FAILS;
        return Promise.reject(new Error("no socket"));
      }
      this.ws = ws;
      this.wsReady = new Promise((resolve, reject) => {
        let opened = false;
        ws.onopen = () => {
          opened = true;
          this.wsFails = 0;
          this.retry = 0;
          resolve(ws);
        };
        ws.onmessage = (e) => this.onMessage(e.data);
        ws.onclose = () => {
          if (this.ws !== ws) return;
          this.ws = null;
          this.wsReady = null;
          if (!opened) {
            this.wsFails++;
            reject(new Error("closed"));
          }
          // Questions in flight on this socket go over REST instead.
          for (const turn of this.turns.values()) if (turn.via === "ws" && !turn.done) this.rest(turn);
          // Reconnect with backoff while the conversation is on screen.
          if ((this.isOpen() || !this.floating) && this.wsFails < WS_MAX_FAILS && this.isConnected) {
            const delay = Math.min(30000, 1000 * 2 ** this.retry++);
            setTimeout(() => {
              if (!this.ws && (this.isOpen() || !this.floating)) this.connect().catch(() => {});
            }, delay);
          }
        };
      });
      this.wsReady.catch(() => {});
      return this.wsReady;
    }

    closeSocket() {
      const ws = this.ws;
      this.ws = null;
      this.wsReady = null;
      if (ws) ws.close();
    }

    onMessage(data) {
      let m;
      try {
        m = JSON.parse(data);
      } catch {
        return;
      }
      const turn = m && this.turns.get(m.id);
      if (!turn || turn.done || turn.via !== "ws") return;
      switch (m.type) {
        case "delta":
          turn.text += typeof m.text === "string" ? m.text : "";
          turn.body.textContent = turn.text;
          this.follow(turn);
          break;
        case "citations":
          turn.citations = Array.isArray(m.items) ? m.items : [];
          break;
        case "done":
          this.finish(turn, m);
          break;
        case "error":
          this.fail(turn, this.uiLang === "nl" && typeof m.message === "string" && m.message ? m.message : this.t.failed);
          break;
      }
    }

    // rest asks over POST .../ask, the fallback when there is no socket.
    rest(turn) {
      turn.via = "rest";
      turn.text = "";
      turn.citations = [];
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), REST_TIMEOUT);
      const body = { question: turn.question };
      if (this.conversation) body.conversation = this.conversation;
      fetch(new URL("api/v1/tenants/" + encodeURIComponent(this.tenant) + "/ask", BASE), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json" },
        body: JSON.stringify(body),
        signal: ctl.signal,
        credentials: "omit",
      })
        .then((r) => r.json().then((d) => ({ ok: r.ok, status: r.status, d }), () => ({ ok: false, status: r.status, d: null })))
        .then(({ ok, status, d }) => {
          if (turn.via !== "rest" || turn.done) return;
          if (status === 403) {
            // The node refuses this site: a configuration error, not the
            // resident's connection.
            console.error("Assistent: the node refuses questions from " + location.origin + " for tenant \"" + this.tenant +
              "\". Add this site to the tenant: assistent tenant set --id " + this.tenant + " --site " + location.host);
            this.fail(turn, this.t.unavailable);
            return;
          }
          if (!ok || !d || typeof d !== "object") {
            this.fail(turn, this.uiLang === "nl" && d && typeof d.detail === "string" && d.detail ? d.detail : this.t.failed);
            return;
          }
          turn.text = typeof d.answer === "string" ? d.answer : "";
          turn.citations = Array.isArray(d.citations) ? d.citations : [];
          this.finish(turn, d);
        })
        .catch(() => this.fail(turn, this.t.offline))
        .finally(() => clearTimeout(timer));
    }

    addTurn(id, question) {
      const t = this.t;
      const li = el("li", "turn");
      const q = el("div", "q");
      q.append(el("span", "sr", t.you + " "), el("span", null, question));
      const a = el("div", "a");
      a.setAttribute("aria-busy", "true");
      a.append(el("span", "sr", t.bot + " "));
      const body = el("p", "text");
      body.lang = "nl";
      const wait = el("p", "wait", t.waiting);
      a.append(body, wait);
      li.append(q, a);
      this.log.append(li);
      const turn = { id, question, li, a, body, wait, text: "", citations: [], via: "", done: false, n: this.log.children.length };
      this.follow(turn);
      return turn;
    }

    // follow keeps the newest turn in view inside the log, without
    // scrolling the host page.
    follow(turn) {
      // The log is the offsetParent of its items (position: relative).
      const log = this.log;
      if (turn.li.offsetHeight > log.clientHeight) log.scrollTop = turn.li.offsetTop;
      else log.scrollTop = log.scrollHeight;
    }

    finish(turn, d) {
      const t = this.t;
      turn.done = true;
      this.busy = false;
      if (typeof d.conversation === "string" && d.conversation) this.conversation = d.conversation;
      turn.wait.remove();
      turn.a.removeAttribute("aria-busy");
      const cites = turn.citations.filter((c) => c && typeof c === "object");
      // A suggestion (mode "suggest") is drawn from its citations, not its
      // text: a lead-in and the pages as a list of links, then the referral.
      const suggest = d.mode === "suggest" && !d.refused && cites.some((c) => webURL(c.url));
      let say;
      if (suggest) {
        say = this.renderSuggestion(turn, cites);
      } else {
        this.renderText(turn, cites, d.refused ? t.refused : "");
        if (cites.length) turn.a.append(this.sources(cites));
        say = t.answer + (turn.body.textContent || "").replace(/\s*\[\d+\]/g, "");
        if (cites.length) say += t.withSources.replace("{n}", cites.length);
      }
      if (d.handoff && typeof d.handoff === "object") turn.a.append(this.handoff(d.handoff));
      if (turn.text) turn.a.append(this.feedback(turn));
      turn.li.dataset.via = turn.via;
      if (typeof d.mode === "string") turn.li.dataset.mode = d.mode;
      if (d.handoff && d.handoff.message) say += " " + d.handoff.message;
      this.announce(say);
      this.follow(turn);
    }

    fail(turn, message) {
      turn.done = true;
      this.busy = false;
      turn.wait.remove();
      turn.a.removeAttribute("aria-busy");
      turn.body.textContent = message;
      turn.body.className = "text error";
      this.announce(message);
      this.follow(turn);
    }

    // renderSuggestion replaces the streamed text with the lead-in and a
    // list of the suggested pages, and returns what the live region says.
    renderSuggestion(turn, cites) {
      const t = this.t;
      const lead = turn.body;
      lead.className = "lead";
      lead.id = "lead-" + turn.id;
      lead.lang = this.uiLang;
      lead.textContent = t.suggest;
      const ul = el("ul", "pages");
      ul.lang = "nl";
      ul.setAttribute("aria-labelledby", lead.id);
      const titles = [];
      for (const c of cites) {
        if (!webURL(c.url)) continue;
        ul.append(this.page(c));
        titles.push(c.title || c.url);
      }
      turn.a.classList.add("suggest");
      turn.a.append(ul);
      return t.suggest + " " + titles.join("; ") + ".";
    }

    // renderText shows the answer with its [n] markers as links to the
    // sources they cite.
    renderText(turn, cites, fallback) {
      const body = turn.body;
      const text = turn.text || fallback;
      body.replaceChildren();
      let last = 0;
      for (const m of text.matchAll(/\[(\d{1,2})\]/g)) {
        const c = cites[Number(m[1]) - 1];
        const href = c && webURL(c.url);
        if (!href) continue;
        body.append(text.slice(last, m.index));
        const a = this.link(href, m[0]);
        a.className = "ref";
        a.lastChild.textContent = " " + this.t.source + " " + m[1] + ": " + (c.title || href) + " " + this.t.newTab;
        body.append(a);
        last = m.index + m[0].length;
      }
      body.append(text.slice(last));
    }

    // link returns an external link that opens in a new tab, saying so to
    // screen readers.
    link(href, text) {
      const a = el("a", null, text);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.append(el("span", "sr", " " + this.t.newTab));
      return a;
    }

    sources(cites) {
      const box = el("div", "sources");
      box.append(el("h3", null, this.t.sources));
      const ol = el("ol");
      for (const c of cites) ol.append(this.page(c));
      box.append(ol);
      return box;
    }

    // page is a list item with a link to a cited page.
    page(c) {
      const li = el("li");
      const label = c.title || c.url || c.id || "";
      const href = webURL(c.url);
      li.append(href ? this.link(href, label) : label);
      // A page of another gemeente (federated fallback) says whose it is.
      if (typeof c.from === "string" && c.from) li.append(el("span", "from", " (" + c.from + ")"));
      return li;
    }

    handoff(h) {
      const t = this.t;
      const box = el("div", "handoff");
      box.append(el("h3", null, t.human));
      if (h.message) box.append(el("p", null, h.message));
      if (h.phone) {
        const p = el("p", null, t.call);
        const digits = String(h.phone).replace(/[\s()-]/g, "");
        if (/^\+?[0-9]{2,15}$/.test(digits)) {
          const tel = el("a", null, h.phone);
          tel.href = "tel:" + digits;
          p.append(tel);
        } else p.append(String(h.phone));
        box.append(p);
      }
      const form = webURL(h.contact_url);
      if (form) {
        const p = el("p");
        p.append(this.link(form, t.form));
        box.append(p);
      }
      if (h.hours) box.append(el("p", null, t.hours + h.hours));
      return box;
    }

    feedback(turn) {
      const t = this.t;
      const box = el("div", "feedback");
      box.setAttribute("role", "group");
      const q = el("span", "ask-fb", t.helpful);
      q.id = "fb-" + turn.id;
      box.setAttribute("aria-labelledby", q.id);
      box.append(q);
      const buttons = [];
      for (const [rating, word] of [["up", t.yes], ["down", t.no]]) {
        const b = el("button", "rate " + rating);
        b.type = "button";
        b.setAttribute("aria-pressed", "false");
        b.append(this.thumb(), word);
        b.addEventListener("click", () => {
          if (box.dataset.sent) return;
          box.dataset.sent = rating;
          b.setAttribute("aria-pressed", "true");
          for (const x of buttons) x.setAttribute("aria-disabled", "true");
          this.sendFeedback(turn, rating).then((ok) => {
            const note = el("span", "note", ok ? t.thanks : t.feedbackFailed);
            box.append(note);
            this.announce(note.textContent);
            if (!ok) {
              delete box.dataset.sent;
              b.setAttribute("aria-pressed", "false");
              for (const x of buttons) x.removeAttribute("aria-disabled");
            }
          });
        });
        buttons.push(b);
        box.append(b);
      }
      return box;
    }

    sendFeedback(turn, rating) {
      const qid = (this.conversation ? this.conversation + "/" : "") + turn.n;
      return fetch(new URL("api/v1/tenants/" + encodeURIComponent(this.tenant) + "/feedback", BASE), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question_id: qid.slice(0, 128), rating, comment: "" }),
        credentials: "omit",
      }).then(
        (r) => r.ok,
        () => false,
      );
    }
  }

  customElements.define("assistent-chat", AssistentChat);

  // The script tag's data-tenant asks for a launcher at the page's end.
  const tenant = me.getAttribute("data-tenant");
  if (tenant) {
    const add = () => {
      const w = document.createElement("assistent-chat");
      w.setAttribute("tenant", tenant);
      w.setAttribute("launcher", "");
      const lang = me.getAttribute("data-lang");
      if (lang) w.setAttribute("lang", lang);
      document.body.append(w);
    };
    if (document.body) add();
    else document.addEventListener("DOMContentLoaded", add);
  }
})();
