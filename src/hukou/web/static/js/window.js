// The demo's sample residents: a button fills the window form as a clerk would from
// the ID cards in front of them (only shown on a demo installation).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.sample").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById("service").value = button.dataset.service;
      document.getElementById("applicant").value = button.dataset.applicant;
      document.getElementById("subject").value = button.dataset.subject;
      document.getElementById("applicant").focus();
    });
  });
});
