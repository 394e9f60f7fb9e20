// licd console niceties. No inline scripts (the CSP forbids them): behaviour hangs off
// data attributes. Everything works without JS, except copying to the clipboard.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = button.getAttribute("data-copy");
  const done = () => {
    const label = button.textContent;
    const named = button.getAttribute("aria-label");
    button.textContent = "Copied";
    if (named) button.setAttribute("aria-label", "Copied");
    setTimeout(() => {
      button.textContent = label;
      if (named) button.setAttribute("aria-label", named);
    }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => {});
  } else {
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } finally { area.remove(); }
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// The navigation (base.html) is a <details>: a sidebar on wide screens, where CSS shows
// its content through ::details-content. Browsers without that pseudo-element get it
// opened here while the screen is wide. On narrow screens Escape closes the open menu.
(() => {
  const menu = document.getElementById("nav-menu");
  if (!menu) return;
  const wide = window.matchMedia("(min-width: 900px)");
  let supported = false;
  try { supported = CSS.supports("selector(::details-content)"); } catch (e) { supported = false; }
  if (!supported) {
    const follow = () => { if (wide.matches) menu.open = true; };
    follow();
    wide.addEventListener("change", follow);
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open && !wide.matches) {
      menu.open = false;
      document.getElementById("nav-toggle").focus();
    }
  });
})();
