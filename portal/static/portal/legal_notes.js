// The device page's legal notes follow the chosen coverage: the notes of the countries it
// holds are shown, the others hidden (the data comes from legal_by_coverage, in the page).
(function () {
  var box = document.getElementById("legal-notes"), data = document.getElementById("legal-by-coverage"),
      coverage = document.getElementById("id_coverage");
  if (!box || !data || !coverage) return;
  var byCoverage = JSON.parse(data.textContent);
  function show() {
    var countries = byCoverage[coverage.value] || [];
    box.hidden = countries.length === 0;
    box.querySelectorAll(".legal-note").forEach(function (note) {
      note.hidden = countries.indexOf(note.dataset.country) < 0;
    });
  }
  coverage.addEventListener("change", show);
  show();
})();
