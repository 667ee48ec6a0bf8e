// Small progressive enhancements. Every page works without this file.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Buttons that copy are only useful with a clipboard: reveal them then.
for (const button of document.querySelectorAll("[data-copy][hidden]")) {
  if (navigator.clipboard) button.hidden = false;
}
