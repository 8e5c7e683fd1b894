() => {
  // Keyboard shortcuts for labelling: A, B, T (tie), S (skip), U (undo).
  // Ignored while typing in a text field, with modifier keys, or when the button is
  // hidden or disabled (the app disables the buttons while an answer is being saved).
  if (window.__splKeys) return;
  window.__splKeys = true;
  const targets = { a: "btn-a", b: "btn-b", t: "btn-tie", s: "btn-skip", u: "btn-undo" };
  const typing = (el) => {
    if (!el) return false;
    const tag = (el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const path = event.composedPath ? event.composedPath() : [event.target];
    if (path.some(typing)) return;
    const id = targets[(event.key || "").toLowerCase()];
    if (!id) return;
    const host = document.getElementById(id);
    if (!host) return;
    const button = host.tagName === "BUTTON" ? host : host.querySelector("button");
    if (!button || button.disabled || button.offsetParent === null) return;
    event.preventDefault();
    button.click();
  });
}
