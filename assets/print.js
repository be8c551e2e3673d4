// kronika: a button with data-print prints the page (no inline script: the CSP forbids it).
document.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest("[data-print]");
  if (b) { e.preventDefault(); window.print(); }
});
