// Progressive enhancement only: every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
// Move focus to an error summary so screen readers announce it.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
});
// A filter box above a long list of tick boxes: typing hides the names that do not match.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-filter-box]").forEach(function (box) {
    var input = box.querySelector("[data-filter-for]");
    var list = document.getElementById(input.getAttribute("data-filter-for"));
    if (!list) { return; }
    box.hidden = false;
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      list.querySelectorAll("[data-filter-text]").forEach(function (row) {
        row.hidden = words !== "" && row.getAttribute("data-filter-text").indexOf(words) === -1;
      });
    });
  });
});
