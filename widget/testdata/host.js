// Records every Content-Security-Policy violation on the test page, so the
// browser test can assert that the widget needs no CSP exceptions.
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
