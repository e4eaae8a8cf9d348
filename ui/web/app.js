// pollen's page: talks to the local API with an HttpOnly session cookie
// it gets by posting the one-time code from the login link's fragment
// (#code=..., printed by 'pollen daemon' and 'pollen page') to /login.
// No script ever sees a credential.
(function () {
  "use strict";
  const $ = (s) => document.querySelector(s);
  // shown escapes what would hide or reorder text: names come from
  // strangers' DAGs, and a bidi control can make "gnp.exe" read as
  // "exe.png". Control, format, private-use and unassigned characters and
  // line or paragraph separators are written as Go's %q and the command
  // line (ui.Escape) write them: \x1b, \a, \u202e. The API keeps names raw
  // for programs; the page escapes only what it shows.
  const short = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r" };
  const hex = (n, w) => n.toString(16).padStart(w, "0");
  const shown = (s) => String(s).replace(/[\p{C}\p{Zl}\p{Zp}]/gu, (c) => {
    const n = c.codePointAt(0);
    if (short[n]) return short[n];
    if (n < 0x20 || n === 0x7f) return "\\x" + hex(n, 2);
    return n < 0x10000 ? "\\u" + hex(n, 4) : "\\U" + hex(n, 8);
  });
  // el builds an element; its text always goes through shown.
  const el = (tag, props, ...kids) => {
    if (props && "textContent" in props) props = { ...props, textContent: shown(props.textContent) };
    const e = Object.assign(document.createElement(tag), props || {});
    for (const k of kids) e.append(k);
    return e;
  };
  const bytes = (n) => {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  };
  const say = (text, ok) => {
    const m = $("#message");
    m.textContent = shown(text);
    m.className = ok ? "ok" : "";
    m.hidden = !text;
  };

  const plural = (n, one, many) => n + " " + (n === 1 ? one : many || one + "s");

  let loginError = ""; // why the link's code did not work, if it did not
  let events = null;
  let timers = [];
  let downloads = ""; // the daemon's default folder for gets

  // login spends the code in the fragment, if there is one, and takes it
  // out of the address bar and history.
  async function login() {
    const code = new URLSearchParams(location.hash.slice(1)).get("code");
    if (!code) return;
    history.replaceState(null, "", location.pathname);
    try {
      const r = await fetch("/login", { method: "POST", body: JSON.stringify({ code }) });
      if (!r.ok) loginError = (await r.json().catch(() => ({}))).error || r.statusText;
    } catch (e) {
      loginError = "daemon not answering: is 'pollen daemon' running?";
    }
  }

  // loggedOut shows why the page cannot talk to the daemon (restarted,
  // never logged in) in place of data that may be stale.
  function loggedOut(why) {
    say(loginError || why);
    $("main").hidden = true;
    $("#node").textContent = "";
    $("#conn").textContent = "";
    if (events) events.close();
    events = null;
    for (const t of timers) clearInterval(t);
    clearTimeout(retryTimer);
  }

  // apiError carries the API's code ("exists", ...) beside its sentence.
  class APIError extends Error {
    constructor(data, status) {
      super(data.error || status);
      this.code = data.code || "";
      this.status = status;
    }
  }

  async function api(method, path, body) {
    let r;
    try {
      r = await fetch(path, { method, body: body ? JSON.stringify(body) : undefined });
    } catch (e) {
      lost();
      throw new Error("daemon not answering: is 'pollen daemon' running?");
    }
    const data = await r.json().catch(() => ({}));
    if (r.status === 401) loggedOut(data.error || "not logged in");
    if (!r.ok) throw new APIError(data, r.statusText);
    return data;
  }

  // ask puts a yes-or-no question in a modal dialog (keyboard: Tab, Enter,
  // Escape is no); no is the default.
  function ask(question, yes, no) {
    const d = $("#ask");
    $("#ask-text").textContent = shown(question);
    $("#ask-yes").textContent = yes;
    $("#ask-no").textContent = no;
    d.returnValue = "";
    d.showModal();
    $("#ask-no").focus();
    return new Promise((done) => d.addEventListener("close", () => done(d.returnValue === "yes"), { once: true }));
  }

  // ---- Staying current: the event stream, and a daemon that restarts ----

  let retryTimer = 0, backoff = 1;

  // lost notes that the daemon stopped answering: the page says so and
  // tries again, 1, 2, 4 ... 30 s apart. A restarted daemon refuses the
  // old session, and refresh then says "daemon restarted: open the new
  // link" (the API's words) in place of stale data.
  function lost() {
    if ($("main").hidden || retryTimer) return;
    if (events) events.close();
    events = null;
    document.body.classList.add("stale");
    const wait = backoff;
    backoff = Math.min(30, backoff * 2);
    $("#conn").textContent = `daemon not answering: trying again in ${wait} s`;
    retryTimer = setTimeout(async () => {
      retryTimer = 0;
      if (await refresh()) connect(); else lost();
    }, wait * 1000);
  }

  // connect opens the event stream; once it answers, everything shown is
  // fetched anew, as after a restart nothing of it may hold.
  function connect() {
    if (events) events.close();
    events = new EventSource("/api/v1/events");
    events.addEventListener("open", () => {
      backoff = 1;
      document.body.classList.remove("stale");
      $("#conn").textContent = "";
      refresh();
      tick();
    });
    events.addEventListener("transfers", (ev) => showTransfers(JSON.parse(ev.data)));
    events.addEventListener("error", () => lost());
  }

  let sharesSeen = "", peersSeen = ""; // what the tables show, to redraw on change only
  const openTickets = new Set(); // shares whose ticket row is open

  // refresh fetches status, shares and peers; it says whether the daemon
  // answered.
  async function refresh() {
    try {
      const [st, shares] = await Promise.all([api("GET", "/api/v1/status"), api("GET", "/api/v1/shares")]);
      loginError = ""; // a session works: a dead link no longer matters
      $("#node").textContent = "peer " + st.id;
      downloads = st.downloads || "";
      $("#get-dir").placeholder = downloads ? "default: " + shown(downloads) : "the daemon's downloads folder";
      $("#storage").textContent = `${st.blocks} blocks, ${bytes(st.bytes)} of content, ${bytes(st.disk)} on disk` +
        (st.quota ? `; ${bytes(st.stored)} stored of the ${bytes(st.quota)} quota (${bytes(st.kept)} shared or pinned, the rest evictable)` : "");
      const seen = JSON.stringify(shares) + [...openTickets].join();
      if (seen !== sharesSeen) { sharesSeen = seen; showShares(shares); }
      return true;
    } catch (e) {
      if (!$("main").hidden && !retryTimer) say(e.message);
      return false;
    }
  }

  function showShares(shares) {
    const rows = [];
    for (const s of shares) {
      const copy = copyButton(s.ticket, s.name, async () => {
        openTickets.add(s.cid);
        sharesSeen = "";
        await refresh();
        return { text: document.getElementById("ticket-" + s.cid), button: document.querySelector(`#shares tr[data-cid="${s.cid}"] button.copy`) };
      });
      const show = el("button", { textContent: openTickets.has(s.cid) ? "Hide ticket" : "Show ticket", className: "show-ticket", type: "button" });
      show.setAttribute("aria-expanded", String(openTickets.has(s.cid)));
      show.onclick = () => { openTickets.has(s.cid) ? openTickets.delete(s.cid) : openTickets.add(s.cid); sharesSeen = ""; refresh(); };
      const rm = el("button", { textContent: "Remove", className: "remove", type: "button" });
      rm.setAttribute("aria-label", "Remove " + shown(s.name));
      rm.onclick = () => removeShare(s);
      const tr = el("tr", null, el("td", { className: "name", textContent: s.name }), el("td", { textContent: bytes(s.size) }),
        el("td", { textContent: s.kind + (s.private ? ", private" : "") + (s.live ? ", a live folder's version" : "") }), uploadedCell(s.seeding), seedingCell(s),
        el("td", { className: "cid", textContent: s.cid }), el("td", { className: "actions" }, copy, show, rm));
      tr.dataset.cid = s.cid;
      rows.push(tr);
      if (openTickets.has(s.cid) && s.ticket) rows.push(ticketRow(s));
    }
    $("#shares tbody").replaceChildren(...rows);
  }

  // ticketRow shows a share's ticket as text to select and as a QR code
  // (drawn by the daemon: GET /api/v1/shares/CID/qr.svg).
  function ticketRow(s) {
    const tr = ticketBox("ticket-" + s.cid, s.ticket, s.name, "/api/v1/shares/" + encodeURIComponent(s.cid) + "/qr.svg", 7);
    tr.dataset.cid = s.cid;
    return tr;
  }

  // ticketBox is a table row holding a ticket as text (its textarea has
  // the id given) and as the QR code at qr.
  function ticketBox(id, ticket, name, qr, cols) {
    const text = el("textarea", { className: "ticket", readOnly: true, rows: 3, value: ticket });
    text.id = id;
    const label = el("label", { htmlFor: id, textContent: "Ticket for " + name });
    const img = el("img", { className: "qr", src: qr, alt: "QR code of the ticket for " + shown(name), width: 200, height: 200 });
    return el("tr", { className: "ticket-row" }, el("td", { colSpan: cols }, el("div", { className: "ticket-box" }, el("div", null, label, text), img)));
  }

  // copyButton copies ticket, and says "copied" only when the clipboard
  // took it; otherwise reveal shows the ticket (it answers the textarea,
  // and the button as drawn anew) and the ticket is selected for the
  // person to copy.
  function copyButton(ticket, name, reveal) {
    const b = el("button", { textContent: "Copy ticket", className: "copy", type: "button" });
    b.dataset.ticket = ticket;
    b.setAttribute("aria-label", "Copy the ticket of " + shown(name));
    b.onclick = async () => {
      let button = b;
      try {
        if (!navigator.clipboard) throw new Error("no clipboard");
        await navigator.clipboard.writeText(ticket);
        button.textContent = "Copied";
        button.dataset.copied = "yes";
        say("Ticket for " + name + " copied", true);
        setTimeout(() => { button.textContent = "Copy ticket"; }, 3000);
      } catch (e) {
        const again = await reveal();
        if (again.text) { again.text.focus(); again.text.select(); }
        button = again.button || button;
        button.dataset.copied = "no";
        say("The browser did not let the page copy: the ticket is selected, press Ctrl-C (⌘-C on a Mac)", true);
      }
    };
    return b;
  }

  async function removeShare(s) {
    if (!(await ask(`Stop sharing and keeping ${s.name}? Its ticket stops working here; your files stay where they are.`, "Remove", "Keep"))) return;
    try {
      await api("DELETE", "/api/v1/shares/" + encodeURIComponent(s.cid));
      openTickets.delete(s.cid);
      say("Removed " + s.name + ": 'Free unused space' gives its blocks back", true);
      refresh();
    } catch (e) { say(e.message); }
  }

  // ---- Live folders: shared live, or followed into a mirror ----

  let livesSeen = ""; // what the table shows, to redraw on change only
  const openLiveTickets = new Set(); // live shares whose ticket row is open

  // ago says how long ago t was, as people say it; the exact time is in
  // the element's title and, for screen readers, beside it.
  function ago(t) {
    const s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 5) return "just now";
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return plural(Math.floor(s / 86400), "day") + " ago";
  }
  function changedCell(li) {
    if (!li.changed) return el("td", { textContent: "no version yet" });
    const at = new Date(li.changed);
    const exact = at.toLocaleString();
    const time = el("time", { className: "ago", dateTime: at.toISOString(), title: exact, textContent: "changed " + ago(at) });
    time.dataset.at = at.getTime();
    return el("td", null, time, el("span", { className: "vh", textContent: ", on " + exact }));
  }

  // stateCell says what needs the person: the last error as a sentence
  // (the error as Go wrote it under Details), and the conflicts, files
  // changed or added in a mirror that pollen left as they are.
  function stateCell(li) {
    const parts = [];
    if (li.err) {
      parts.push(el("p", { className: "live-error", textContent: li.why || li.err }));
      parts.push(el("details", null, el("summary", { textContent: "Details" }), el("p", { className: "detail", textContent: li.err })));
    }
    const cs = li.conflicts || [];
    if (cs.length) {
      const list = el("ul", { className: "conflicts" }, ...cs.map((c) => el("li", { textContent: c })));
      parts.push(el("details", { className: "conflicts" },
        el("summary", { textContent: plural(cs.length, "conflict") }),
        el("p", { className: "hint", textContent: "Changed or added here, so pollen left them as they are:" }), list));
    }
    if (!parts.length) {
      const ok = li.follow ? (li.seq ? "up to date" : "waiting for the first version") : li.seq ? "published" : "";
      parts.push(el("span", { textContent: ok }));
    }
    return el("td", { className: "live-state" }, ...parts);
  }

  function showLives(lives) {
    const rows = [];
    for (const li of lives) {
      const what = li.dir;
      const acts = [];
      if (!li.follow && li.ticket) {
        acts.push(copyButton(li.ticket, what, async () => {
          openLiveTickets.add(li.name);
          livesSeen = "";
          await refreshLives();
          return { text: document.getElementById("live-ticket-" + li.name), button: document.querySelector(`#lives tr[data-name="${li.name}"] button.copy`) };
        }));
        const open = openLiveTickets.has(li.name);
        const show = el("button", { textContent: open ? "Hide ticket" : "Show ticket", className: "show-ticket", type: "button" });
        show.setAttribute("aria-expanded", String(open));
        show.setAttribute("aria-label", (open ? "Hide the ticket of " : "Show the ticket of ") + shown(what));
        show.onclick = () => { open ? openLiveTickets.delete(li.name) : openLiveTickets.add(li.name); livesSeen = ""; refreshLives(); };
        acts.push(show);
      }
      const stop = el("button", { textContent: li.follow ? "Stop following" : "Stop", className: "stop", type: "button" });
      stop.setAttribute("aria-label", (li.follow ? "Stop following into " : "Stop sharing live ") + shown(what));
      stop.onclick = () => stopLive(li);
      acts.push(stop);
      const tr = el("tr", null,
        el("td", { className: "name", textContent: what }),
        el("td", { className: "kind", textContent: li.follow ? "following" : "sharing live" }),
        el("td", { className: "version", textContent: li.seq ? "version " + li.seq : "no version yet" }),
        changedCell(li),
        el("td", { textContent: plural(li.followers, "follower") + " now" }),
        stateCell(li),
        el("td", { className: "actions" }, ...acts));
      Object.assign(tr.dataset, { name: li.name, seq: li.seq, kind: li.follow ? "follow" : "share", followers: li.followers });
      if (li.err) tr.dataset.error = "yes";
      rows.push(tr);
      if (!li.follow && li.ticket && openLiveTickets.has(li.name)) {
        const qr = "/api/v1/live/" + encodeURIComponent(li.name) + "/qr.svg";
        const row = ticketBox("live-ticket-" + li.name, li.ticket, what, qr, 7);
        row.dataset.name = li.name;
        rows.push(row);
      }
    }
    $("#lives tbody").replaceChildren(...rows);
    $("#lives").hidden = !lives.length;
    $("#lives-none").hidden = !!lives.length;
  }

  // refreshLives reads the live folders; the table is drawn anew only
  // when they changed (focus and screen readers stay put), and the
  // times since the last change are told again each time.
  async function refreshLives() {
    if ($("main").hidden) return;
    let lives;
    try { lives = await api("GET", "/api/v1/live"); } catch (e) { return; }
    const seen = JSON.stringify(lives) + [...openLiveTickets].join();
    if (seen !== livesSeen) {
      // Focus stays on the same button of the same row, if it is still there.
      const f = document.activeElement;
      const row = f && f.closest && f.closest("#lives tr");
      const again = row && row.dataset.name && f.tagName === "BUTTON" && f.className ? `#lives tr[data-name="${row.dataset.name}"] button.${f.className.split(" ")[0]}` : "";
      livesSeen = seen;
      showLives(lives);
      const b = again && document.querySelector(again);
      if (b) b.focus();
    }
    for (const t of document.querySelectorAll("#lives time.ago")) {
      const text = "changed " + ago(Number(t.dataset.at));
      if (t.textContent !== text) t.textContent = text;
    }
  }

  async function stopLive(li) {
    const q = li.follow
      ? `Stop following into ${li.dir}? Its files stay as they are; pollen no longer updates them.`
      : `Stop sharing ${li.dir} live? Its ticket gets no new versions; the folder stays as it is.`;
    if (!(await ask(q, li.follow ? "Stop following" : "Stop sharing", li.follow ? "Keep following" : "Keep sharing"))) return;
    try {
      await api("DELETE", "/api/v1/live/" + encodeURIComponent(li.name));
      openLiveTickets.delete(li.name);
      say("Stopped " + (li.follow ? "following into " : "sharing live ") + li.dir + ": 'Free unused space' gives its versions' blocks back", true);
      livesSeen = "";
      refreshLives();
      refresh();
    } catch (e) { say(e.message); }
  }

  const liveForm = $("#live-form");
  liveForm.onsubmit = async (ev) => {
    ev.preventDefault();
    if ($("#live-go").disabled) return; // one at a time, however it is submitted
    const dir = pathOf($("#live-dir").value);
    if (!dir) return;
    $("#live-go").disabled = true;
    $("#live-go").textContent = "Sharing…";
    liveForm.setAttribute("aria-busy", "true");
    try {
      const li = await api("POST", "/api/v1/live", { dir });
      say(`Sharing ${li.dir} live, version ${li.seq}: its ticket is in the list`, true);
      $("#live-dir").value = "";
      livesSeen = "";
      refreshLives();
      refresh();
    } catch (e) { say(e.message); $("#live-dir").focus(); }
    $("#live-go").disabled = false;
    $("#live-go").textContent = "Share live";
    liveForm.setAttribute("aria-busy", "false");
  };

  $("#follow-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const ticket = $("#follow-ticket").value.trim(), dir = pathOf($("#follow-dir").value);
    if (!ticket || !dir) return;
    try {
      const li = await api("POST", "/api/v1/follow", { ticket, dir });
      say(`Following into ${li.dir}: each new version is written there`, true);
      $("#follow-ticket").value = "";
      $("#follow-dir").value = "";
      livesSeen = "";
      refreshLives();
    } catch (e) { say(e.message); }
  };

  // ---- Peers, with rates from successive counts ----

  let lastPeers = new Map(); // id → {in, out, t}

  async function refreshPeers() {
    if ($("main").hidden) return;
    let peers;
    try { peers = await api("GET", "/api/v1/peers"); } catch (e) { return; }
    const now = Date.now(), next = new Map();
    const rows = peers.map((p) => {
      const was = lastPeers.get(p.id);
      const dt = was ? (now - was.t) / 1000 : 0;
      const rin = dt > 0 ? Math.max(0, (p.in - was.in) / dt) : 0, rout = dt > 0 ? Math.max(0, (p.out - was.out) / dt) : 0;
      next.set(p.id, { in: p.in, out: p.out, t: now });
      const tr = el("tr", null,
        el("td", { className: "cid", textContent: p.id }), el("td", { className: "cid", textContent: p.addr }),
        el("td", { textContent: p.kind || (p.relayed ? "relayed" : "direct") }),
        el("td", { textContent: `${bytes(p.in)}, ${bytes(rin)}/s` }), el("td", { textContent: `${bytes(p.out)}, ${bytes(rout)}/s` }));
      Object.assign(tr.dataset, { rateIn: Math.round(rin), rateOut: Math.round(rout) });
      return tr;
    });
    lastPeers = next;
    $("#peers tbody").replaceChildren(...rows);
  }

  // uploadedCell says what a root uploaded, to how many peers, since when.
  function uploadedCell(sd) {
    const since = sd.since ? new Date(sd.since).toLocaleDateString() : "";
    return el("td", { textContent: `${bytes(sd.uploaded)} (x${(sd.ratio || 0).toFixed(2)}) to ${plural(sd.peers, "peer")}` + (since ? `, since ${since}` : "") });
  }

  // seedingCell shows whether a root is served, why not, and a button to
  // pause or resume it.
  function seedingCell(s) {
    const sd = s.seeding;
    const word = sd.state === "stopped" && sd.reason ? "stopped: " + sd.reason : sd.state;
    const seeding = sd.state === "seeding";
    const b = el("button", { textContent: seeding ? "Pause" : "Resume", className: "seed-toggle", type: "button" });
    b.setAttribute("aria-label", (seeding ? "Pause seeding " : "Resume seeding ") + shown(s.name));
    b.onclick = async () => {
      try {
        await api("POST", "/api/v1/seeding/" + s.cid, seeding ? { pause: true } : { resume: true });
        sharesSeen = "";
        refresh();
      } catch (e) { say(e.message); }
    };
    return el("td", null, el("span", { textContent: word + " " }), b);
  }

  // ---- Transfers: gets and shares the daemon runs, live ----

  const seenStates = new Map(); // transfer id → last state shown
  const mine = new Set(); // gets this page started: it asks about their "exists"
  let adding = 0; // the share this page is importing, 0 for none
  const boxes = new Map(); // transfer id → its box, kept so focus and screen readers stay put
  const peerSeen = new Map(); // transfer id → {t, peers}: for per-peer rates

  // control asks the daemon to pause, resume or cancel a get; the event
  // stream shows the new state.
  async function control(id, verb, body) {
    try { await api("POST", `/api/v1/transfers/${id}/${verb}`, body); } catch (e) { say(e.message); }
  }
  // What a get in each state can be asked to do, and the button's word.
  const verbs = { running: ["pause", "cancel"], paused: ["resume", "cancel"], failed: ["retry", "cancel"] };
  const words = { pause: "Pause", resume: "Resume", cancel: "Cancel", retry: "Retry", replace: "Replace…" };
  const shortID = (id) => id.length > 16 ? id.slice(0, 6) + "…" + id.slice(-6) : id;

  // maybeAsk asks, once, about a get this page started that found other
  // files in its way. It may fail before the page hears it ran.
  const asked = new Set();
  function maybeAsk(t) {
    if (!t || t.state !== "failed" || t.code !== "exists" || !mine.has(t.id) || asked.has(t.id)) return;
    asked.add(t.id);
    replace(t);
  }

  async function replace(t) {
    const where = (t.dir ? t.dir + "/" : "") + t.name;
    if (await ask(`Replace the files in ${where}? What is there now is written over.`, "Replace", "Keep mine")) {
      control(t.id, "resume", { force: true });
    }
  }

  // lineOf says where a transfer stands, in words.
  function lineOf(t, peerRates) {
    const of = `${bytes(t.done)} of ${bytes(t.total)}`;
    if (t.state === "done") return t.kind === "add" ? "shared as " + t.cid : "saved " + t.path;
    if (t.state === "failed") return t.error;
    if (t.state === "paused" || t.state === "canceled") return t.total ? of + filesOf(t) : "";
    if (t.kind === "add") return t.total ? `reading files: ${of}, ${bytes(t.rate)}/s` : "reading files…";
    if (t.looking) return "looking for holders…" + (t.done ? ` (${bytes(t.done)} here already)` : "");
    const from = peerRates.length ? ": " + peerRates.map(([id, r]) => `${shortID(id)} ${bytes(r)}/s`).join(", ") : "";
    if (t.stalled) return `stalled: nothing arrived for a while; ${of} here`;
    const eta = t.eta > 0 ? `, ${Math.round(t.eta)} s left` : "";
    return `${of}, ${bytes(t.rate)}/s${eta}, from ${plural(peerRates.length || Object.keys(t.peers || {}).length, "peer")}${from}` + filesOf(t);
  }

  // filesOf says how many files of a get are whole, and the last one.
  const filesOf = (t) => t.files_done ? `; ${plural(t.files_done, "file")} whole, last ${t.last_file}` : "";

  // ratesOf turns a transfer's per-peer byte counts, event after event,
  // into bytes a second.
  function ratesOf(t) {
    const now = Date.now(), was = peerSeen.get(t.id);
    const out = [];
    if (was && now - was.t >= 500) {
      for (const [id, n] of Object.entries(t.peers || {})) {
        out.push([id, Math.max(0, (n - (was.peers[id] || 0)) / ((now - was.t) / 1000))]);
      }
    }
    if (!was || now - was.t >= 500) peerSeen.set(t.id, { t: now, peers: { ...t.peers }, rates: out });
    return was && now - was.t < 500 ? was.rates || [] : out;
  }

  function transferBox(t) {
    const stalled = t.stalled && !t.looking; // before the first byte it is looking, not stalled
    const key = [t.state, t.code, t.kind, stalled, t.looking].join();
    let box = boxes.get(t.id);
    if (box && box.dataset.key === key) return box;
    let acts = t.kind === "get" ? verbs[t.state] || [] : [];
    if (t.state === "failed" && t.code === "exists") acts = ["replace", ...acts];
    const buttons = acts.map((verb) => {
      const b = el("button", { textContent: words[verb], className: verb, type: "button" });
      b.setAttribute("aria-label", words[verb].replace("…", "") + " " + shown(t.name));
      b.onclick = () => {
        if (verb === "replace") return replace(t);
        b.disabled = true;
        control(t.id, verb === "retry" ? "resume" : verb);
      };
      return b;
    });
    // A get's content opens through the daemon's gateway while it
    // downloads: what the reader needs is fetched first.
    if (t.kind === "get" && t.cid && t.state !== "failed" && t.state !== "canceled") {
      const open = el("a", { textContent: "Open", className: "open", href: "/ipfs/" + t.cid, target: "_blank", rel: "noopener" });
      open.setAttribute("aria-label", "Open " + shown(t.name));
      buttons.push(open);
    }
    const word = t.state === "running" && t.looking ? "looking" : t.state === "running" && stalled ? "stalled" : t.kind === "add" && t.state === "running" ? "sharing" : t.state;
    const fill = el("div");
    const bar = el("div", { className: "bar" }, fill);
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-label", shown(t.name));
    const detail = t.detail ? el("details", null, el("summary", { textContent: "Details" }), el("p", { className: "detail", textContent: t.detail })) : "";
    const fresh = el("div", { className: "transfer " + t.state + (stalled ? " stalled" : "") },
      el("div", { className: "title" },
        el("span", { className: "name", textContent: t.name }), el("span", { className: "pct" }),
        el("span", { className: "state", textContent: word }), ...buttons),
      bar, el("div", { className: "muted line" }), detail);
    Object.assign(fresh.dataset, { key, id: t.id, state: t.state, kind: t.kind });
    if (t.code) fresh.dataset.code = t.code;
    if (stalled) fresh.dataset.stalled = "yes";
    if (box) {
      // Focus stays on the same button, if the new box has it.
      const focused = box.contains(document.activeElement) ? document.activeElement.className : "";
      box.replaceWith(fresh);
      const again = focused && fresh.querySelector("button." + focused.split(" ")[0]);
      if (again) again.focus();
    }
    boxes.set(t.id, fresh);
    return fresh;
  }

  let lastByID = new Map(); // the transfers as the last event listed them

  function showTransfers(list) {
    lastByID = new Map(list.map((t) => [t.id, t]));
    const shown_ = [];
    for (const t of list.slice().reverse()) {
      const box = transferBox(t);
      const pct = t.total > 0 ? Math.min(100, (100 * t.done) / t.total) : t.state === "done" ? 100 : 0;
      box.querySelector(".pct").textContent = pct.toFixed(0) + "%";
      box.querySelector(".bar > div").style.width = pct + "%";
      const bar = box.querySelector(".bar");
      bar.setAttribute("aria-valuenow", pct.toFixed(0));
      bar.setAttribute("aria-valuetext", t.looking ? "looking for holders" : pct.toFixed(0) + "%, " + t.state);
      const line = shown(lineOf(t, t.state === "running" ? ratesOf(t) : []));
      const l = box.querySelector(".line");
      if (l.textContent !== line) l.textContent = line;
      box.dataset.pct = pct.toFixed(0);
      shown_.push(box);
    }
    const holder = $("#transfers");
    // Only new boxes are added: the live region announces them, not every
    // change of rate.
    const now = new Set(shown_);
    for (const c of [...holder.children]) if (!now.has(c)) c.remove();
    shown_.forEach((b, i) => { if (holder.children[i] !== b) holder.insertBefore(b, holder.children[i] || null); });
    for (const id of [...boxes.keys()]) if (!list.some((t) => t.id === id)) { boxes.delete(id); peerSeen.delete(id); }
    $("#clear-ended").hidden = !list.some((t) => ["done", "failed", "canceled"].includes(t.state));

    // Shares, peers and storage change when a transfer ends: refresh
    // then, not on every event.
    let ended = false;
    for (const t of list) {
      const before = seenStates.get(t.id);
      if (t.state !== "running" && before !== t.state) ended = true;
      maybeAsk(t);
      if (t.id === adding && t.state !== "running") shareEnded(t);
      seenStates.set(t.id, t.state);
    }
    if (ended) { sharesSeen = ""; refresh(); }
  }

  $("#clear-ended").onclick = async () => {
    try {
      const r = await api("DELETE", "/api/v1/transfers");
      say(`Cleared ${plural(r.cleared, "finished transfer")}`, true);
    } catch (e) { say(e.message); }
  };

  // ---- Sharing: a path, typed, pasted or dropped ----

  // pathOf reads a dropped or pasted path: a file:// link becomes its
  // path; the daemon expands ~/ and trims the rest.
  const pathOf = (s) => {
    s = s.trim().split(/\r?\n/).find((l) => l && !l.startsWith("#")) || "";
    if (/^file:\/\//i.test(s)) {
      try { return decodeURIComponent(new URL(s).pathname); } catch (e) { return s; }
    }
    return s;
  };
  const shareForm = $("#share-form");
  shareForm.addEventListener("dragover", (ev) => { ev.preventDefault(); shareForm.classList.add("drop"); });
  shareForm.addEventListener("dragleave", () => shareForm.classList.remove("drop"));
  shareForm.addEventListener("drop", (ev) => {
    ev.preventDefault();
    shareForm.classList.remove("drop");
    const dt = ev.dataTransfer;
    const text = dt.getData("text/uri-list") || dt.getData("text/plain");
    if (text) {
      $("#share-path").value = pathOf(text);
      $("#share-path").focus();
      say("", true);
    } else if (dt.files && dt.files.length) {
      say(`The browser gives the page ${dt.files[0].name}'s contents, not where it is: type or paste its path`);
      $("#share-path").focus();
    }
  });

  function sharing(on) {
    $("#share-go").disabled = on;
    $("#share-path").readOnly = on;
    shareForm.setAttribute("aria-busy", String(on));
    $("#share-go").textContent = on ? "Sharing…" : "Share";
  }

  function shareEnded(t) {
    adding = 0;
    sharing(false);
    if (t.state === "done") {
      say("Sharing " + t.name + " (" + t.cid + "): its ticket is in the list", true);
      $("#share-path").value = "";
    } else {
      say(t.error || "the share stopped");
      $("#share-path").focus();
    }
  }

  shareForm.onsubmit = async (ev) => {
    ev.preventDefault();
    if ($("#share-go").disabled) return; // one at a time, however it is submitted
    const path = pathOf($("#share-path").value);
    if (!path) return;
    sharing(true);
    try {
      const r = await api("POST", "/api/v1/shares", { path, async: true });
      adding = r.id;
      const t = lastByID.get(r.id); // it may have ended before the answer came
      if (t && t.state !== "running") shareEnded(t);
    } catch (e) { sharing(false); say(e.message); }
  };

  // getBody is a get's request: the ref, and the folder if one is given.
  function getBody(ref, extra) {
    const dir = $("#get-dir").value.trim();
    return { ref, ...(dir ? { dir } : {}), ...extra };
  }

  $("#get-form").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("POST", "/api/v1/get", getBody($("#get-ref").value));
      mine.add(r.id);
      maybeAsk(lastByID.get(r.id));
      say("", true);
      $("#get-ref").value = "";
    } catch (e) { say(e.message); }
  };
  // doctorFacts lays out a diagnosis (GET /api/v1/doctor) as the
  // command line's 'pollen doctor' does: one fact a line.
  function doctorFacts(d) {
    const facts = [["Node", d.node.id], ["Reachability", d.node.summary]];
    for (const r of d.node.reasons || []) facts.push(["because", r]);
    const dht = d.dht.on ? `${d.dht.verdict}: ${d.dht.routing_table} peers in the routing table` : d.dht.verdict;
    facts.push(["DHT", dht]);
    if (d.dht.lookup) facts.push(["lookup", `found ${d.dht.lookup.peers} peers in ${d.dht.lookup.ms.toFixed(0)} ms`]);
    const c = d.content;
    if (c) {
      facts.push(["Content", c.name ? `${c.root} (${c.name})` : c.root]);
      for (const h of c.holders) {
        const how = h.self ? "this node" : !h.connected ? "unreachable" + (h.error ? ": " + h.error : "")
          : h.conn + (h.via ? " through " + h.via : "") + (h.rtt_ms ? `, round trip ${h.rtt_ms.toFixed(1)} ms` : "");
        facts.push(["Holder", `${h.id} (found: ${(h.found || []).join(", ")}): ${how}` + (h.rate ? `, ${bytes(h.rate)}/s` : "")]);
      }
      facts.push(["Verdict", `${c.verdict}: ${c.why}`]);
    }
    return facts;
  }
  $("#doctor-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const out = $("#doctor");
    out.replaceChildren(el("dd", { textContent: "checking…" }));
    try {
      const ref = $("#doctor-ref").value.trim();
      const d = await api("GET", "/api/v1/doctor" + (ref ? "?ref=" + encodeURIComponent(ref) : ""));
      out.replaceChildren(...doctorFacts(d).flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]));
      out.dataset.reachability = d.node.reachability;
      if (d.content) out.dataset.verdict = d.content.verdict;
    } catch (e) { out.replaceChildren(); say(e.message); }
  };
  $("#gc").onclick = async () => {
    try {
      const r = await api("POST", "/api/v1/gc");
      say(`Removed ${r.removed} blocks (${bytes(r.freed)})`, true);
      refresh();
    } catch (e) { say(e.message); }
  };

  // ---- Bandwidth: the limits (GET/PUT /api/v1/limits) and what moves ----

  // parseRate reads a rate as the command line does: bytes (2 MiB, 500 KB)
  // or bits (5 Mbit); empty, 0 or none is no limit. null when unreadable.
  const parseRate = (s) => {
    const t = s.trim().replace(/\/s$/i, "").trim();
    if (t === "" || t === "0" || /^none$/i.test(t)) return 0;
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)(b|bytes?|bits?)?$/i.exec(t);
    if (!m || (m[3] && !m[2])) return null;
    const n = parseFloat(m[1]) * Math.pow(m[3] ? 1024 : 1000, " kmgt".indexOf(m[2].toLowerCase() || " "));
    return Math.round(/^bit/i.test(m[4] || "") ? n / 8 : n);
  };
  // rateText writes bytes a second back in a unit parseRate reads, exactly
  // when one fits.
  const rateText = (bps) => {
    if (!bps) return "";
    for (const [n, u] of [[2 ** 30, "GiB"], [1e9, "GB"], [2 ** 20, "MiB"], [1e6, "MB"], [125000, "Mbit"], [1024, "KiB"], [1000, "KB"], [125, "kbit"]]) {
      if (bps % n === 0) return bps / n + " " + u;
    }
    return bps + " B";
  };
  // siRate is a measured rate, in the units people compare with a link's.
  const siRate = (bps) => {
    const u = ["B/s", "kB/s", "MB/s", "GB/s"];
    let i = 0;
    while (bps >= 1000 && i < u.length - 1) { bps /= 1000; i++; }
    return (i ? bps.toFixed(1) : Math.round(bps)) + " " + u[i] + (i ? ` (${(bps * 8).toFixed(1)} ${["", "kbit", "Mbit", "Gbit"][i]}/s)` : "");
  };
  const limitInputs = { up: "#limit-up", down: "#limit-down", peer_up: "#limit-peer-up" };
  let limitsDirty = false; // the user is changing them: do not write over
  for (const sel of Object.values(limitInputs)) $(sel).addEventListener("input", () => { limitsDirty = true; });

  function showLimits(l) {
    if (!limitsDirty) {
      for (const [k, sel] of Object.entries(limitInputs)) $(sel).value = rateText(l[k]);
    }
    const m = l.measured, now = $("#limits-now");
    now.textContent = m.wire
      ? `Now: up ${siRate(m.up)}, down ${siRate(m.down)} on the wire; of it, blocks up ${siRate(m.block_up)}, down ${siRate(m.block_down)}.`
      : `Now (blocks): up ${siRate(m.block_up)}, down ${siRate(m.block_down)}.`;
    Object.assign(now.dataset, { up: m.up, down: m.down, blockUp: m.block_up, blockDown: m.block_down });
    const f = $("#limits-form");
    Object.assign(f.dataset, { up: l.up, down: l.down, peerUp: l.peer_up });
    const t = Date.now();
    samples.push({ t, down: m.down, up: m.up });
    while (samples.length && samples[0].t < t - graphSpan) samples.shift();
    // The graph spans what it holds, from a minute up to graphSpan.
    const span = Math.min(graphSpan, Math.max(60000, t - samples[0].t));
    const minutes = Math.round(span / 60000);
    $("#graph-caption").textContent = window.pollenGraph.draw($("#graph"), samples, span, t, (top) =>
      `Down (solid) and up (dashed) over the last ${plural(minutes, "minute")}; the top of the scale is ${siRate(top)}. Now down ${siRate(m.down)}, up ${siRate(m.up)}.`);
  }

  // The graph's samples: one each time the limits are read, kept in
  // memory for graphSpan.
  const graphSpan = 5 * 60 * 1000;
  const samples = [];

  async function refreshLimits() {
    if ($("main").hidden) return;
    try { showLimits(await api("GET", "/api/v1/limits")); } catch (e) { /* refresh says why */ }
  }

  $("#limits-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [k, sel] of Object.entries(limitInputs)) {
      const v = parseRate($(sel).value);
      if (v === null) {
        say(`"${$(sel).value}" is not a rate: write one such as 5 Mbit, 2 MiB or 500 KB, or leave it empty for none`);
        $(sel).focus();
        return;
      }
      body[k] = v;
    }
    try {
      limitsDirty = false;
      showLimits(await api("PUT", "/api/v1/limits", body));
      say("Limits saved", true);
    } catch (e) { say(e.message); }
  };

  // ---- Choosing files: a share's tree with checkboxes (GET /api/v1/tree) ----

  let choosing = null; // { ref, root }: the tree shown

  // treeOf nests a listing's entries (parents before children, paths
  // slash-separated, "" the root) and sums folder sizes.
  function treeOf(entries) {
    const byPath = new Map();
    let root = null;
    for (const e of entries) {
      const i = e.path.lastIndexOf("/");
      const node = { ...e, name: e.path.slice(i + 1), children: [] };
      byPath.set(e.path, node);
      if (e.path === "") { root = node; continue; }
      const parent = byPath.get(i < 0 ? "" : e.path.slice(0, i));
      if (parent) { node.parent = parent; parent.children.push(node); }
    }
    const sum = (n) => n.kind === "dir" ? (n.size = n.children.reduce((a, c) => a + sum(c), 0)) : n.size;
    if (root) sum(root);
    return root;
  }

  let pickID = 0;
  // pickRow is one entry: a fold button for a folder, its checkbox and
  // label, its size, and its children.
  function pickRow(node) {
    const id = "pick-" + pickID++;
    const box = el("input", { type: "checkbox", id, checked: true });
    box.dataset.path = node.path;
    node.box = box;
    box.addEventListener("change", () => { setPicked(node, box.checked); pickedAbove(node.parent); showPicked(); });
    const label = el("label", { htmlFor: id, textContent: node.name + (node.kind === "dir" ? "/" : "") });
    const size = el("span", { className: "size", textContent: node.kind === "symlink" ? "link" : bytes(node.size) });
    if (node.kind !== "dir") return el("li", null, el("span", { className: "leaf" }), box, label, size);
    const kids = el("ul", null, ...node.children.map(pickRow));
    const fold = el("button", { type: "button", className: "twist", textContent: "▾" });
    fold.setAttribute("aria-expanded", "true");
    fold.setAttribute("aria-label", "fold " + shown(node.name));
    fold.onclick = () => {
      const open = kids.hidden;
      kids.hidden = !open;
      fold.textContent = open ? "▾" : "▸";
      fold.setAttribute("aria-expanded", String(open));
      fold.setAttribute("aria-label", (open ? "fold " : "unfold ") + shown(node.name));
    };
    return el("li", null, fold, box, label, size, kids);
  }

  function setPicked(node, on) {
    node.box.checked = on;
    node.box.indeterminate = false;
    for (const c of node.children) setPicked(c, on);
  }

  // pickedAbove makes each folder above checked when all below it are,
  // and half-checked when some are.
  function pickedAbove(node) {
    for (; node && node.box; node = node.parent) {
      if (node.children.length === 0) continue; // an empty folder is as it was set
      const all = node.children.every((c) => c.box.checked && !c.box.indeterminate);
      const some = node.children.some((c) => c.box.checked || c.box.indeterminate);
      node.box.checked = all;
      node.box.indeterminate = some && !all;
    }
  }

  const whole = (n) => n.box.checked && !n.box.indeterminate;
  // picks names the fewest paths that take what is checked: a whole folder
  // by its own path.
  const picks = (n) => whole(n) ? [n.path] : n.kind === "dir" ? n.children.flatMap(picks) : [];
  const pickedFiles = (n) => n.kind === "dir" ? n.children.flatMap(pickedFiles) : n.box.checked ? [n] : [];

  function showPicked() {
    const files = pickedFiles(choosing.root);
    const size = files.reduce((a, f) => a + f.size, 0);
    const total = $("#chooser-total");
    total.textContent = `Selected: ${files.length} file${files.length === 1 ? "" : "s"}, ${bytes(size)} of ${bytes(choosing.root.size)}`;
    total.dataset.bytes = size;
    total.dataset.files = files.length;
    $("#chooser-get").disabled = files.length === 0;
  }

  function closeChooser() {
    choosing = null;
    $("#chooser").hidden = true;
    $("#chooser-tree").replaceChildren();
  }

  $("#choose").onclick = async () => {
    const ref = $("#get-ref").value.trim();
    if (!ref) { say("Paste a ticket or CID first"); $("#get-ref").focus(); return; }
    $("#chooser").hidden = false;
    $("#chooser-title").textContent = "Listing…";
    $("#chooser-tree").replaceChildren();
    try {
      const t = await api("GET", "/api/v1/tree?ref=" + encodeURIComponent(ref));
      const root = treeOf(t.entries || []);
      if (!root) throw new Error("the listing is empty");
      choosing = { ref, root };
      $("#chooser-title").textContent = shown(t.name || t.cid);
      if (root.kind === "dir") {
        root.box = el("input", { type: "checkbox", checked: true }); // stands for the whole share
        $("#chooser-tree").replaceChildren(...root.children.map(pickRow));
      } else {
        root.name = t.name || t.cid;
        $("#chooser-tree").replaceChildren(pickRow(root));
      }
      showPicked();
      say("", true);
    } catch (e) { closeChooser(); say(e.message); }
  };
  $("#chooser-all").onclick = () => { if (choosing) { setPicked(choosing.root, true); showPicked(); } };
  $("#chooser-none").onclick = () => { if (choosing) { setPicked(choosing.root, false); showPicked(); } };
  $("#chooser-cancel").onclick = closeChooser;
  $("#chooser-get").onclick = async () => {
    if (!choosing) return;
    const paths = picks(choosing.root);
    try {
      // The whole share is an ordinary get; a part names its paths exactly.
      const r = await api("POST", "/api/v1/get", getBody(choosing.ref, paths.includes("") ? {} : { paths }));
      mine.add(r.id);
      maybeAsk(lastByID.get(r.id));
      closeChooser();
      $("#get-ref").value = "";
      say("", true);
    } catch (e) { say(e.message); }
  };

  // tick reads what changes by the second: limits and rates, peers, live
  // folders (a new version, a follower).
  function tick() { refreshLimits(); refreshPeers(); refreshLives(); }

  // A new link pasted over this page changes only the fragment: start over.
  addEventListener("hashchange", () => { if (location.hash.includes("code=")) location.reload(); });
  login().then(async () => {
    const ok = await refresh();
    if ($("main").hidden) return;
    timers = [setInterval(refresh, 5000), setInterval(tick, 2000)];
    if (ok) connect(); else lost();
  });
})();
