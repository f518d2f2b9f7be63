// The playground's page. It draws what the server sends and sends what the learner does;
// every number about the network (loss, gradients, steps, surface, lines) comes from the engine.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["data", "model", "seed", "lr", "sample"];
  const SAD = [37, 99, 235];
  const HAPPY = [245, 158, 11];
  const NAME_COLOUR = { w11: "red", w21: "red", b1: "red", w12: "green", w22: "green", b2: "green" };

  // The setup, read from the address: the known fields, and every other key is a parameter.
  const state = { data: "alien", model: "network", seed: 0, lr: 0.5, sample: 0, params: null };
  const query = new URLSearchParams(window.location.search);
  for (const [key, text] of query) {
    if (FIELDS.includes(key)) {
      state[key] = key === "data" || key === "model" ? text : Number(text);
    } else {
      state.params = state.params || {};
      state.params[key] = Number(text);
    }
  }

  let last = null;
  let shown = null; // the parameter whose chain rule is open
  let names = [];
  let playing = false;
  let updates = 0;

  // Requests run one at a time; slider moves made meanwhile are sent once, with the latest values.
  // data-pending on the body counts the requests not yet answered.
  let chain = Promise.resolve(true);
  let queued = false;
  let pending = 0;
  function enqueue(run) {
    pending += 1;
    document.body.dataset.pending = String(pending);
    chain = chain.then(run).finally(() => {
      pending -= 1;
      document.body.dataset.pending = String(pending);
    });
    return chain;
  }
  function refresh() {
    if (queued) { return; }
    queued = true;
    enqueue(() => { queued = false; return send({}); });
  }
  function act(extra) {
    return enqueue(() => send(extra));
  }

  // A learner's change made while a request was out wins over that request's answer.
  let edits = 0;
  function edit(change) {
    edits += 1;
    change();
  }

  async function send(extra) {
    const asked = edits;
    const body = Object.assign({}, state, extra);
    if (body.params === null) { delete body.params; }
    let response;
    let out;
    try {
      response = await fetch("/api/state", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      out = await response.json();
    } catch (e) {
      $("error").textContent = "the playground server did not answer: " + e;
      return false;
    }
    if (!response.ok) {
      $("error").textContent = out.error || ("error " + response.status);
      return false;
    }
    $("error").textContent = "";
    render(out, asked === edits);
    return true;
  }

  function render(out, current) {
    last = out;
    if (!current) { return; } // the request the change queued draws it
    for (const key of FIELDS) { state[key] = out[key]; }
    state.params = Object.assign({}, out.params);
    const q = new URLSearchParams();
    for (const key of FIELDS) { q.set(key, String(out[key])); }
    for (const name of out.names) { q.set(name, String(out.params[name])); }
    window.history.replaceState(null, "", "?" + q.toString());

    $("data").value = out.data;
    $("model").value = out.model;
    if (document.activeElement !== $("lr")) { $("lr").value = String(out.lr); }
    $("sample").value = String(out.sample);
    $("sample").max = String(out.n - 1);
    $("seed").textContent = String(out.seed);
    const [x1, x2, y] = out.x;
    const short = (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
    $("sample-text").textContent = out.sample + ": x1 = " + short(x1) + ", x2 = " + short(x2) +
      ", y = " + y + (y === 1 ? " (happy)" : " (sad)");
    $("loss").textContent = out.loss.toPrecision(6);
    $("loss").dataset.value = String(out.loss);
    $("accuracy").textContent = (100 * out.accuracy).toFixed(1) + "%";
    $("accuracy").dataset.value = String(out.accuracy);

    if (names.join() !== out.names.join()) { buildRows(out.names); }
    for (const name of names) {
      const row = document.querySelector('#params tr[data-name="' + name + '"]');
      const value = out.params[name];
      const grad = out.grads[name];
      const slider = row.querySelector("input");
      const reach = Math.max(10, Math.ceil(Math.abs(value)));
      slider.min = String(-reach);
      slider.max = String(reach);
      if (document.activeElement !== slider) { slider.value = String(value); }
      const v = row.querySelector(".value");
      v.textContent = value.toFixed(4);
      v.dataset.value = String(value);
      const g = row.querySelector(".grad");
      g.textContent = grad.toPrecision(4);
      g.dataset.value = String(grad);
      // Gradient descent moves w against ∂L/∂w.
      row.querySelector(".move").textContent = grad > 0 ? "←" : grad < 0 ? "→" : "·";
    }
    $("graph").innerHTML = out.graph || "<p class='hint'>the graph needs graphviz's dot</p>";
    showExplain();
    plot(out);
    updates += 1;
    document.body.dataset.updates = String(updates);
  }

  function buildRows(list) {
    names = list.slice();
    const body = document.querySelector("#params tbody");
    body.textContent = "";
    for (const name of names) {
      const row = document.createElement("tr");
      row.dataset.name = name;
      row.className = NAME_COLOUR[name] || "purple";
      row.innerHTML =
        '<td class="name" title="click for its chain rule"></td>' +
        '<td><input type="range" step="any" min="-10" max="10"></td>' +
        '<td class="num value"></td><td class="num grad"></td><td class="move"></td>';
      row.querySelector(".name").textContent = name;
      row.querySelector("input").setAttribute("aria-label", name);
      row.querySelector("input").addEventListener("input", (e) => {
        edit(() => { state.params[name] = Number(e.target.value); });
        refresh();
      });
      row.querySelector(".name").addEventListener("click", () => {
        shown = shown === name ? null : name;
        showExplain();
      });
      body.appendChild(row);
    }
  }

  function showExplain() {
    if (shown === null || last === null || !(shown in last.explain)) {
      $("explain").textContent = "";
      return;
    }
    $("explain").textContent =
      "Sample " + last.sample + " alone; beside the slider is the mean over all " + last.n +
      " samples.\n\n" + last.explain[shown];
  }

  // Where a point of the data lands on the canvas (the top row is the largest x2).
  function toCanvas(out, a, b) {
    const canvas = $("plot");
    const [x0, x1, y0, y1] = out.box;
    return [
      ((a - x0) / (x1 - x0)) * canvas.width,
      canvas.height - ((b - y0) / (y1 - y0)) * canvas.height,
    ];
  }

  function plot(out) {
    const canvas = $("plot");
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    const px = (x) => toCanvas(out, x, 0)[0];
    const py = (y) => toCanvas(out, 0, y)[1];
    const n = out.grid;
    const cw = w / (n - 1);
    const ch = h / (n - 1);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const p = out.surface[i * n + j];
        const c = [0, 1, 2].map((k) => Math.round(0.35 * (p * HAPPY[k] + (1 - p) * SAD[k]) + 0.65 * 255));
        ctx.fillStyle = "rgb(" + c.join(",") + ")";
        ctx.fillRect((j - 0.5) * cw, (i - 0.5) * ch, cw + 1, ch + 1);
      }
    }
    for (const line of out.lines) {
      if (line.ends === null) { continue; }
      ctx.strokeStyle = line.colour;
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.moveTo(px(line.ends[0][0]), py(line.ends[0][1]));
      ctx.lineTo(px(line.ends[1][0]), py(line.ends[1][1]));
      ctx.stroke();
    }
    for (const [a, b, label, count] of out.points) {
      ctx.beginPath();
      ctx.arc(px(a), py(b), Math.min(14, 3 * Math.sqrt(count)), 0, 2 * Math.PI);
      ctx.fillStyle = label === 1 ? "rgb(" + HAPPY.join(",") + ")" : "rgb(" + SAD.join(",") + ")";
      ctx.fill();
      ctx.strokeStyle = "white";
      ctx.lineWidth = 1;
      ctx.stroke();
    }
    ctx.beginPath();
    ctx.arc(px(out.x[0]), py(out.x[1]), 16, 0, 2 * Math.PI);
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 2;
    ctx.stroke();
    const legend = out.lines.map((l) => '<span class="line" style="background:' + l.colour +
      '"></span> ' + l.name).join(" ");
    $("line-legend").innerHTML = legend;
    $("axes").textContent = out.data === "alien"
      ? "→ x1, the \u201caack\u201d count · ↑ x2, the \u201cbeep\u201d count"
      : "→ x1 · ↑ x2";
  }

  async function play() {
    playing = !playing;
    $("play").textContent = playing ? "pause" : "play";
    while (playing) {
      const ok = await act({ steps: 5 });
      if (!ok) { playing = false; $("play").textContent = "play"; }
      await new Promise((done) => setTimeout(done, 60));
    }
  }

  // A click on the plot chooses the sample nearest to it (on the screen) for the graph.
  $("plot").addEventListener("click", (e) => {
    if (last === null) { return; }
    const canvas = $("plot");
    const rect = canvas.getBoundingClientRect();
    const cx = ((e.clientX - rect.left) * canvas.width) / rect.width;
    const cy = ((e.clientY - rect.top) * canvas.height) / rect.height;
    let best = null;
    let bestDistance = Infinity;
    for (const [a, b, , , index] of last.points) {
      const [px, py] = toCanvas(last, a, b);
      const d = (px - cx) * (px - cx) + (py - cy) * (py - cy);
      if (d < bestDistance) { bestDistance = d; best = index; }
    }
    if (best !== null) { change(() => { state.sample = best; }); }
  });
  $("step").addEventListener("click", () => act({ steps: 1 }));
  $("play").addEventListener("click", play);
  function change(how) {
    edit(how);
    act({});
  }
  $("reset").addEventListener("click", () => change(() => { state.params = null; }));
  $("new-seed").addEventListener("click", () => change(() => {
    state.seed = Math.floor(Math.random() * 1000000);
    state.params = null;
  }));
  $("data").addEventListener("change", (e) => change(() => { state.data = e.target.value; }));
  $("model").addEventListener("change", (e) => change(() => {
    state.model = e.target.value;
    state.params = null;
  }));
  $("lr").addEventListener("change", (e) => change(() => { state.lr = Number(e.target.value); }));
  $("sample").addEventListener("change", (e) => change(() => {
    state.sample = Number(e.target.value);
  }));
  act({});
})();
