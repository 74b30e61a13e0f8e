// The language selector in the page header changes the language as soon as one is chosen (the
// Content-Security-Policy allows no inline handlers; without JavaScript the form's button does it).
document.querySelectorAll("form[data-submit-on-change]").forEach(function (form) {
  form.addEventListener("change", function () { form.submit(); });
});
