// Keeps a reply or a new thread on the server as the member types (forms with data-draft-url).
// Without this script the form's "Save draft" button does the same; the CSP allows no inline script.
(function () {
  "use strict";

  const QUIET_MS = 1500; // save once typing pauses this long

  function keepDrafts(form) {
    const url = form.dataset.draftUrl;
    const status = form.querySelector(".draft-status");
    const discard = form.querySelector(".draft-discard");
    let timer = null;
    let saved = contents(); // what the server holds (the page came with it)
    let queue = Promise.resolve(); // saves go one after another, so an older one never wins
    let busy = 0;
    let leaving = false;

    function contents() {
      const data = new FormData(form);
      return ["board", "subject", "body"].map((name) => data.get(name) || "").join("\u0000");
    }

    function blank(data) {
      return !((data.get("subject") || "").trim() || (data.get("body") || "").trim());
    }

    function say(text) {
      if (status) status.textContent = text;
    }

    function send(data, now, keepalive) {
      return fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        keepalive: keepalive,
      })
        .then((response) =>
          response
            .json()
            .catch(() => ({}))
            .then((answer) => {
              if (!response.ok) throw new Error(answer.error || "The draft could not be saved.");
              saved = now;
              if (discard) discard.hidden = blank(data); // an empty draft is no draft
              say(answer.message || "Draft saved.");
            })
        )
        .catch((error) => say(error.message || "The draft could not be saved."));
    }

    function save(keepalive) {
      clearTimeout(timer);
      timer = null;
      const now = contents();
      if (now === saved) return;
      const data = new FormData(form); // the CSRF token rides along as a field
      if (keepalive) {
        send(data, now, true); // the page is going: no time to wait in the queue
        return;
      }
      busy += 1;
      queue = queue.then(() => send(data, now, false)).finally(() => (busy -= 1));
    }

    form.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => save(false), QUIET_MS);
    });

    // Posting clears the draft on the server: a save still in flight must land before it, and
    // none may follow it. So a submission waits for the queue, then goes without saving again.
    form.addEventListener("submit", (event) => {
      clearTimeout(timer);
      timer = null;
      if (busy > 0) {
        event.preventDefault();
        const submitter = event.submitter;
        queue.then(() => form.requestSubmit(submitter));
        return;
      }
      leaving = true;
    });

    window.addEventListener("pagehide", () => {
      if (!leaving) save(true);
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) leaving = false; // back from the browser's cache: keep saving
    });
  }

  document.querySelectorAll("form[data-draft-url]").forEach(keepDrafts);
})();
