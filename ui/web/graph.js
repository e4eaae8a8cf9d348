// pollen's rate graph: the last minutes of down and up as two lines in
// an inline SVG, drawn with DOM calls (the page's CSP allows no inline
// markup or styles; colours come from style.css) from samples the page
// keeps in memory. No library.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 120, PAD = 4;
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };

  // draw lays samples ({t, down, up}, oldest first, t in ms) over span ms
  // ending now into svg, with the scale's top written as text by label.
  function draw(svg, samples, span, now, label) {
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("preserveAspectRatio", "none");
    const top = Math.max(1024, ...samples.map((s) => Math.max(s.down, s.up))) * 1.1;
    const x = (t) => (W * (t - (now - span))) / span;
    const y = (v) => H - PAD - ((H - 2 * PAD) * v) / top;
    const line = (key, cls) => svgEl("polyline", {
      class: cls, fill: "none", "vector-effect": "non-scaling-stroke",
      points: samples.map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" "),
    });
    const grid = [0.25, 0.5, 0.75].map((f) => svgEl("line", { class: "grid", x1: 0, x2: W, y1: y(top * f), y2: y(top * f), "vector-effect": "non-scaling-stroke" }));
    svg.replaceChildren(...grid, line("down", "down"), line("up", "up"));
    svg.dataset.samples = samples.length;
    svg.dataset.top = Math.round(top);
    return label(top);
  }

  window.pollenGraph = { draw };
})();
