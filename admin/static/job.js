// Progressive enhancement of a crawl job's page: while the job runs, the
// job section is fetched again every two seconds and replaced, so its
// progress shows without a reload. Without script the page has a link.
(() => {
  "use strict";
  const tick = async () => {
    const cur = document.getElementById("job");
    if (!cur || cur.dataset.running !== "true") return;
    try {
      const resp = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (resp.ok) {
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        const next = doc.getElementById("job");
        if (next) {
          // The section stays (it is the live region); its content changes.
          cur.innerHTML = next.innerHTML;
          if (next.dataset.running !== "true") delete cur.dataset.running;
        }
      }
    } catch (_) {
      // The next tick tries again.
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
})();
