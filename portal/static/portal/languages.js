// The language chooser (base.html) sends the customer to this page in another language. Its
// links name the page as the server rendered it; a page that changed its own address since
// (the checkout adds its key) is named as it is now, so that nothing chosen is lost.
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-testid=language-chooser] a[data-language]");
  if (!link) return;
  var url = new URL(link.getAttribute("href"), window.location.href);
  url.searchParams.set("next", window.location.pathname + window.location.search);
  link.setAttribute("href", url.pathname + url.search);
});
