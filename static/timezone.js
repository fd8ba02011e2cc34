/* Tells the server the browser's time zone, for the pages of visitors and of members who have
   not chosen one in their settings (a static file: the Content-Security-Policy allows no inline
   script). The zone goes into the `tz` cookie rather than onto the member, so a page view writes
   nothing and a member's e-mail zone changes only when they save it in their settings (a guess
   from a borrowed or travelling laptop never becomes their digest's zone). The server checks the
   name and ignores one it does not know. The first page a new browser sees was drawn before the
   cookie existed and says UTC; the pages after it use the browser's zone. */
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return; // a browser without Intl keeps UTC
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) {
    return;
  }
  if (document.cookie.split("; ").indexOf("tz=" + zone) === -1) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
      (location.protocol === "https:" ? "; secure" : "");
  }
  // The settings select of a member with no zone yet, if the server had no cookie to go by.
  var select = document.querySelector("select[data-browser-zone]");
  if (select) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.value = zone;
        break;
      }
    }
  }
})();
