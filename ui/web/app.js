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

  let loginError = ""; // why the link's code did not work, if it did not
  let events = null;

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
    if (events) events.close();
    clearInterval(timer);
  }

  async function api(method, path, body) {
    let r;
    try {
      r = await fetch(path, { method, body: body ? JSON.stringify(body) : undefined });
    } catch (e) {
      throw new Error("daemon not answering: is 'pollen daemon' running?");
    }
    const data = await r.json().catch(() => ({}));
    if (r.status === 401) loggedOut(data.error || "not logged in");
    if (!r.ok) throw new Error(data.error || r.statusText);
    return data;
  }

  async function refresh() {
    try {
      const [st, shares, peers] = await Promise.all([
        api("GET", "/api/v1/status"), api("GET", "/api/v1/shares"), api("GET", "/api/v1/peers"),
      ]);
      loginError = ""; // a session works: a dead link no longer matters
      $("#node").textContent = "peer " + st.id;
      $("#storage").textContent = `${st.blocks} blocks, ${bytes(st.bytes)} of content, ${bytes(st.disk)} on disk` +
        (st.quota ? `; ${bytes(st.stored)} stored of the ${bytes(st.quota)} quota (${bytes(st.kept)} shared or pinned, the rest evictable)` : "");
      const sb = $("#shares tbody");
      sb.replaceChildren(...shares.map((s) => {
        const copy = el("button", { textContent: "Copy ticket", className: "copy" });
        copy.dataset.ticket = s.ticket;
        copy.onclick = async () => {
          try { await navigator.clipboard.writeText(s.ticket); } catch (e) { /* no clipboard: the ticket is in data-ticket */ }
          say("Ticket for " + s.name + " copied", true);
        };
        return el("tr", null, el("td", { textContent: s.name }), el("td", { textContent: bytes(s.size) }),
          el("td", { textContent: s.kind + (s.private ? ", private" : "") }), uploadedCell(s.seeding), seedingCell(s),
          el("td", { className: "cid", textContent: s.cid }), el("td", null, copy));
      }));
      const pb = $("#peers tbody");
      pb.replaceChildren(...peers.map((p) => el("tr", null,
        el("td", { className: "cid", textContent: p.id }), el("td", { className: "cid", textContent: p.addr }),
        el("td", { textContent: p.kind || (p.relayed ? "relayed" : "direct") }), el("td", { textContent: bytes(p.in) }),
        el("td", { textContent: bytes(p.out) }))));
    } catch (e) {
      if (!$("main").hidden) say(e.message);
    }
  }

  // uploadedCell says what a root uploaded, to how many peers, since when.
  function uploadedCell(sd) {
    const since = sd.since ? new Date(sd.since).toLocaleDateString() : "";
    return el("td", { textContent: `${bytes(sd.uploaded)} (x${(sd.ratio || 0).toFixed(2)}) to ${sd.peers} ${sd.peers === 1 ? "peer" : "peers"}` + (since ? `, since ${since}` : "") });
  }

  // seedingCell shows whether a root is served, why not, and a button to
  // pause or resume it.
  function seedingCell(s) {
    const sd = s.seeding;
    const word = sd.state === "stopped" && sd.reason ? "stopped: " + sd.reason : sd.state;
    const seeding = sd.state === "seeding";
    const b = el("button", { textContent: seeding ? "Pause" : "Resume", className: "seed-toggle" });
    b.setAttribute("aria-label", (seeding ? "Pause seeding " : "Resume seeding ") + s.name);
    b.onclick = async () => {
      try {
        await api("POST", "/api/v1/seeding/" + s.cid, seeding ? { pause: true } : { resume: true });
        refresh();
      } catch (e) { say(e.message); }
    };
    return el("td", null, el("span", { textContent: word + " " }), b);
  }

  const seenStates = new Map(); // transfer id → last state shown

  // control asks the daemon to pause, resume or cancel a get; the event
  // stream shows the new state.
  async function control(id, verb) {
    try { await api("POST", `/api/v1/transfers/${id}/${verb}`); } catch (e) { say(e.message); }
  }
  // What a get in each state can be asked to do.
  const verbs = { running: ["pause", "cancel"], paused: ["resume", "cancel"], failed: ["resume", "cancel"] };

  function showTransfers(list) {
    $("#transfers").replaceChildren(...list.slice().reverse().map((t) => {
      const pct = t.total > 0 ? Math.min(100, (100 * t.done) / t.total) : 0;
      const eta = t.stalled ? "stalled" : t.eta > 0 && t.state === "running" ? Math.round(t.eta) + " s left" : "";
      const peers = Object.keys(t.peers || {}).length;
      const line = t.state === "done" ? (t.kind === "add" ? "shared as " + t.cid : "saved " + t.path)
        : t.state === "failed" ? t.error
        : t.state === "paused" || t.state === "canceled" ? `${bytes(t.done)} of ${bytes(t.total)}`
        : `${bytes(t.done)} of ${bytes(t.total)}, ${bytes(t.rate)}/s, ${eta}, from ${peers} peer${peers === 1 ? "" : "s"}`;
      const buttons = (t.kind === "get" ? verbs[t.state] || [] : []).map((verb) => {
        const b = el("button", { textContent: verb[0].toUpperCase() + verb.slice(1), className: verb, type: "button" });
        b.onclick = () => { b.disabled = true; control(t.id, verb); };
        return b;
      });
      const box = el("div", { className: "transfer " + t.state },
        el("div", { className: "title" },
          el("span", { textContent: t.name + " — " + pct.toFixed(0) + "%" }),
          el("span", { className: "state", textContent: t.state }), ...buttons),
        el("div", { className: "bar" }, el("div", { style: "width:" + pct + "%" })),
        el("div", { className: "muted", textContent: line }));
      box.dataset.state = t.state;
      box.dataset.pct = pct.toFixed(0);
      box.dataset.id = t.id;
      return box;
    }));
    // Shares, peers and storage change when a transfer ends: refresh
    // then, not on every event.
    let ended = false;
    for (const t of list) {
      if (t.state !== "running" && seenStates.get(t.id) !== t.state) ended = true;
      seenStates.set(t.id, t.state);
    }
    if (ended) refresh();
  }

  $("#share-form").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      const s = await api("POST", "/api/v1/shares", { path: $("#share-path").value });
      say("Sharing " + s.name + " (" + s.cid + ")", true);
      $("#share-path").value = "";
      refresh();
    } catch (e) { say(e.message); }
  };
  $("#get-form").onsubmit = async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/api/v1/get", { ref: $("#get-ref").value });
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
  }

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
      await api("POST", "/api/v1/get", paths.includes("") ? { ref: choosing.ref } : { ref: choosing.ref, paths });
      closeChooser();
      $("#get-ref").value = "";
      say("", true);
    } catch (e) { say(e.message); }
  };

  const timer = setInterval(refresh, 5000);
  // A new link pasted over this page changes only the fragment: start over.
  addEventListener("hashchange", () => { if (location.hash.includes("code=")) location.reload(); });
  login().then(async () => {
    await refresh();
    if ($("main").hidden) return;
    refreshLimits();
    setInterval(refreshLimits, 2000);
    events = new EventSource("/api/v1/events");
    events.addEventListener("transfers", (ev) => showTransfers(JSON.parse(ev.data)));
  });
})();
