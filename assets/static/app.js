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

// A file input with data-fill="ID" reads the chosen file into the textarea #ID (the
// form posts the text; without JavaScript, paste it).
document.addEventListener("change", (event) => {
  const input = event.target.closest("input[type=file][data-fill]");
  if (!input || !input.files || !input.files[0]) return;
  const area = document.getElementById(input.getAttribute("data-fill"));
  if (!area) return;
  input.files[0].text().then((text) => { area.value = text; }, () => {});
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// The navigation (base.html) is a <details>: a sidebar on wide screens, where CSS alone
// shows its content (::details-content), and a menu that opens and closes on narrow ones.
// Here it is also opened while the screen is wide (for browsers without that
// pseudo-element, and so it reads as open), closed when the screen turns narrow, and
// Escape closes the open menu on a narrow screen.
(() => {
  const menu = document.getElementById("nav-menu");
  if (!menu) return;
  const wide = window.matchMedia("(min-width: 900px)");
  const follow = () => { menu.open = wide.matches; };
  follow();
  wide.addEventListener("change", follow);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open && !wide.matches) {
      menu.open = false;
      document.getElementById("nav-toggle").focus();
    }
  });
})();

// A card whose table is wider than the screen scrolls sideways (app.css); a keyboard
// user reaches such a card with Tab and scrolls it with the arrow keys. It is named by
// its heading for screen readers.
(() => {
  const mark = () => {
    document.querySelectorAll(".card, .table-scroll").forEach((box) => {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      const marked = box.hasAttribute("data-scrolls");
      if (scrolls && !marked && !box.hasAttribute("tabindex")) {
        box.setAttribute("data-scrolls", "");
        box.setAttribute("tabindex", "0");
        if (box.tagName !== "MAIN" && box.tagName !== "SECTION") box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
          const heading = box.querySelector("h1, h2, h3");
          box.setAttribute("aria-label", (heading ? heading.textContent.trim() : "Table") + " (scrolls sideways)");
          box.setAttribute("data-scrolls-label", "");
        }
      } else if (!scrolls && marked) {
        box.removeAttribute("data-scrolls");
        box.removeAttribute("tabindex");
        if (box.getAttribute("role") === "region") box.removeAttribute("role");
        if (box.hasAttribute("data-scrolls-label")) {
          box.removeAttribute("aria-label");
          box.removeAttribute("data-scrolls-label");
        }
      }
    });
  };
  mark();
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(mark, 100);
  });
})();
