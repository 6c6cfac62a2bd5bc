/* edu-gen: the latent-space explorers of the book's website, computed in the page.
 *
 * The notebooks show ipywidgets explorers, which need a Python kernel; on the website this
 * file draws the same things from the trained networks that edu_gen.export wrote next to
 * the page (window.eduGenModels[name]), with mlp.js:
 *   latent-plane    click or drag a point of the 2-D code plane (or move the sliders): the
 *                   image is the decoder's mean sigmoid(logits) at that code; with a class
 *                   picker for a conditional VAE (p(x | z, y))
 *   interpolation   two test digits and t in [0, 1]: decode (1 - t) mu_a + t mu_b
 *   class-samples   a conditional generator: G(z, y) for eight fixed noise vectors and the
 *                   class y picked
 * Each explorer keeps its state on its container element (container.eduGenExplorer: the
 * code, the label, the image as numbers, the time of each redraw) for the site tests.
 */
(function (root) {
  "use strict";
  var eduGen = root.eduGen = root.eduGen || {};
  if (eduGen.explorers) return;   // loaded twice on one page
  var mlp = eduGen.mlp;
  var TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"];
  var networks = {};   // decoded networks, by model name

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function model(name) {
    var spec = (root.eduGenModels || {})[name];
    if (!spec) throw new Error("model " + name + " was not loaded (is its .js file next to the page?)");
    if (!networks[name]) networks[name] = {spec: spec, net: mlp.network(spec)};
    return networks[name];
  }

  /** The network's outputs for n codes (flat) and labels, mapped to [0, 1] pixels. */
  function decode(m, z, n, labels) {
    var spec = m.spec, x = mlp.withLabels(z, n, spec.latent_dim, spec.n_classes, labels);
    var out = mlp.forward(m.net, x, n);
    if (spec.range && spec.range[0] === -1) {       // a tanh generator: pixels in [-1, 1]
      for (var i = 0; i < out.length; i++) out[i] = (out[i] + 1) / 2;
    }
    return out;
  }

  /** Draw a 28 x 28 image in [0, 1] (offset `at` in `pixels`) black on white, as
   * edu_gen.plots.show_images does, at (x0, y0) of the canvas's image data. */
  function putDigit(ctx, pixels, at, x0, y0) {
    var image = ctx.createImageData(28, 28);
    for (var j = 0; j < 784; j++) {
      var p = Math.min(1, Math.max(0, pixels[at + j])), grey = Math.round(255 * (1 - p));
      image.data[4 * j] = image.data[4 * j + 1] = image.data[4 * j + 2] = grey;
      image.data[4 * j + 3] = 255;
    }
    ctx.putImageData(image, x0, y0);
  }

  function digitCanvas(label) {
    return el("canvas", {width: 28, height: 28, class: "edu-gen-digit", "aria-label": label});
  }

  /** A plane of 2-D codes in [-limit, limit]^2 with the test digits' codes as dots. */
  function Plane(spec, limit, size) {
    this.limit = limit; this.size = size;
    this.canvas = el("canvas", {width: size, height: size, class: "edu-gen-plane",
                                "aria-label": "the plane of 2-D codes"});
    this.codes = spec.codes ? mlp.decodeArray(spec.codes) : new Float32Array(0);
    this.labels = spec.labels || [];
  }
  Plane.prototype.toPixel = function (z1, z2) {
    var s = this.size / (2 * this.limit);
    return [(z1 + this.limit) * s, (this.limit - z2) * s];
  };
  Plane.prototype.toCode = function (px, py) {
    var s = this.size / (2 * this.limit);
    return [px / s - this.limit, this.limit - py / s];
  };
  Plane.prototype.draw = function (marks, segment) {
    var ctx = this.canvas.getContext("2d"), size = this.size, self = this;
    ctx.fillStyle = "white"; ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1;
    var origin = this.toPixel(0, 0);
    ctx.beginPath(); ctx.moveTo(0, origin[1]); ctx.lineTo(size, origin[1]);
    ctx.moveTo(origin[0], 0); ctx.lineTo(origin[0], size); ctx.stroke();
    for (var i = 0; i < this.codes.length / 2; i++) {
      var p = this.toPixel(this.codes[2 * i], this.codes[2 * i + 1]);
      ctx.fillStyle = TAB10[(this.labels[i] || 0) % 10];
      ctx.globalAlpha = 0.55; ctx.fillRect(p[0] - 1.5, p[1] - 1.5, 3, 3);
    }
    ctx.globalAlpha = 1;
    if (segment) {
      var a = this.toPixel(segment[0], segment[1]), b = this.toPixel(segment[2], segment[3]);
      ctx.strokeStyle = "black"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    }
    marks.forEach(function (z) {
      var q = self.toPixel(z[0], z[1]);
      ctx.strokeStyle = "black"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(q[0], q[1], 6, 0, 2 * Math.PI); ctx.stroke();
    });
  };

  function slider(min, max, step, value, label) {
    var input = el("input", {type: "range", min: min, max: max, step: step, "aria-label": label});
    input.value = value;
    return input;
  }

  function labelled(text, input) {
    var row = el("label", {class: "edu-gen-slider"});
    row.appendChild(el("span", {}, text)); row.appendChild(input);
    return row;
  }

  function classPicker(n, onPick) {
    var box = el("div", {class: "edu-gen-classes", role: "group", "aria-label": "class"});
    var buttons = [];
    for (var y = 0; y < n; y++) {
      var b = el("button", {type: "button", "data-label": y}, String(y));
      b.addEventListener("click", (function (label) { return function () { onPick(label); }; })(y));
      buttons.push(b); box.appendChild(b);
    }
    box.select = function (label) {
      buttons.forEach(function (b, i) { b.classList.toggle("edu-gen-picked", i === label); });
    };
    return box;
  }

  function timed(state, draw) {
    return function () {
      var t0 = performance.now();
      draw.apply(null, arguments);
      state.redrawTimes.push(performance.now() - t0);
    };
  }

  // --- latent-plane ---------------------------------------------------------------------

  function mountLatentPlane(container) {
    var m = model(container.dataset.model), spec = m.spec;
    if (spec.latent_dim !== 2) throw new Error("the latent plane needs a 2-D code");
    var limit = +container.dataset.limit || 2.5, step = +container.dataset.step || 0.05;
    var plane = new Plane(spec, limit, 280), digit = digitCanvas("the decoded image");
    var s1 = slider(-limit, limit, step, 0, "z1"), s2 = slider(-limit, limit, step, 0, "z2");
    var readout = el("div", {class: "edu-gen-readout"});
    var state = {z: [0, 0], label: spec.n_classes ? 0 : null, image: null, redrawTimes: []};
    var picker = spec.n_classes ? classPicker(spec.n_classes, function (y) { state.label = y; redraw(); }) : null;

    var redraw = timed(state, function () {
      var labels = state.label === null ? null : [state.label];
      state.image = decode(m, Float64Array.from(state.z), 1, labels);
      putDigit(digit.getContext("2d"), state.image, 0, 0, 0);
      plane.draw([state.z]);
      if (picker) picker.select(state.label);
      readout.textContent = "z = (" + state.z[0].toFixed(2) + ", " + state.z[1].toFixed(2) + ")" +
        (state.label === null ? "" : ", class " + state.label);
    });
    state.setCode = function (z1, z2) {
      state.z = [Math.max(-limit, Math.min(limit, z1)), Math.max(-limit, Math.min(limit, z2))];
      s1.value = state.z[0]; s2.value = state.z[1];
      redraw();
    };
    if (spec.n_classes) state.setLabel = function (y) { state.label = y; redraw(); };
    [s1, s2].forEach(function (s) {
      s.addEventListener("input", function () { state.z = [+s1.value, +s2.value]; redraw(); });
    });
    var dragging = false;
    function pointAt(event) {
      var box = plane.canvas.getBoundingClientRect();
      var z = plane.toCode((event.clientX - box.left) * plane.size / box.width,
                           (event.clientY - box.top) * plane.size / box.height);
      state.setCode(z[0], z[1]);
    }
    plane.canvas.addEventListener("pointerdown", function (e) { dragging = true; pointAt(e); });
    plane.canvas.addEventListener("pointermove", function (e) { if (dragging) pointAt(e); });
    root.addEventListener("pointerup", function () { dragging = false; });

    var controls = el("div", {class: "edu-gen-column"});
    controls.appendChild(labelled("z\u2081", s1)); controls.appendChild(labelled("z\u2082", s2));
    if (picker) controls.appendChild(picker);
    controls.appendChild(digit); controls.appendChild(readout);
    var row = el("div", {class: "edu-gen-row"});
    row.appendChild(plane.canvas); row.appendChild(controls);
    container.appendChild(row);
    container.eduGenExplorer = state;
    redraw();
  }

  // --- interpolation --------------------------------------------------------------------

  function mountInterpolation(container) {
    var m = model(container.dataset.model), spec = m.spec;
    var picks = spec.picks;                 // [{index, label, code}] of test digits
    if (!picks || picks.length < 2) throw new Error("the interpolation explorer needs two digits");
    var plane = new Plane(spec, +container.dataset.limit || 3, 200);
    var digit = digitCanvas("the decoded image"), t = slider(0, 1, 0.02, 0, "t");
    var readout = el("div", {class: "edu-gen-readout"});
    function picker(chosen, label) {
      var select = el("select", {"aria-label": label});
      picks.forEach(function (p, i) {
        select.appendChild(el("option", {value: i}, "test digit " + p.index + " (a " + p.label + ")"));
      });
      select.value = chosen;
      return select;
    }
    var a = picker(0, "first digit"), b = picker(1, "second digit");
    var state = {t: 0, a: 0, b: 1, z: null, image: null, redrawTimes: []};
    var redraw = timed(state, function () {
      var za = picks[state.a].code, zb = picks[state.b].code, n = za.length, z = new Float64Array(n);
      for (var k = 0; k < n; k++) z[k] = (1 - state.t) * za[k] + state.t * zb[k];
      state.z = Array.from(z);
      state.image = decode(m, z, 1, null);
      putDigit(digit.getContext("2d"), state.image, 0, 0, 0);
      if (n === 2) plane.draw([state.z], [za[0], za[1], zb[0], zb[1]]);
      readout.textContent = "t = " + state.t.toFixed(2);
    });
    state.set = function (ia, ib, tt) {
      state.a = ia; state.b = ib; state.t = tt; a.value = ia; b.value = ib; t.value = tt; redraw();
    };
    t.addEventListener("input", function () { state.t = +t.value; redraw(); });
    a.addEventListener("change", function () { state.a = +a.value; redraw(); });
    b.addEventListener("change", function () { state.b = +b.value; redraw(); });
    var controls = el("div", {class: "edu-gen-column"});
    controls.appendChild(a); controls.appendChild(b); controls.appendChild(labelled("t", t));
    controls.appendChild(digit); controls.appendChild(readout);
    var row = el("div", {class: "edu-gen-row"});
    if (spec.latent_dim === 2) row.appendChild(plane.canvas);
    row.appendChild(controls);
    container.appendChild(row);
    container.eduGenExplorer = state;
    redraw();
  }

  // --- class-samples --------------------------------------------------------------------

  function mountClassSamples(container) {
    var m = model(container.dataset.model), spec = m.spec, count = +container.dataset.count || 8;
    var random = mlp.seededRandom(+container.dataset.seed || 0);
    var grid = el("canvas", {width: 28 * count, height: 28, class: "edu-gen-samples",
                             "aria-label": "samples of the class picked"});
    var state = {label: 0, z: null, image: null, count: count, redrawTimes: []};
    var picker = classPicker(spec.n_classes, function (y) { state.label = y; redraw(); });
    var again = el("button", {type: "button"}, "new noise");
    var redraw = timed(state, function () {
      var labels = []; for (var i = 0; i < count; i++) labels.push(state.label);
      state.image = decode(m, state.z, count, labels);
      var ctx = grid.getContext("2d");
      for (var j = 0; j < count; j++) putDigit(ctx, state.image, 784 * j, 28 * j, 0);
      picker.select(state.label);
    });
    function newNoise() { state.z = mlp.gaussians(count * spec.latent_dim, random); redraw(); }
    state.setLabel = function (y) { state.label = y; redraw(); };
    state.newNoise = newNoise;
    again.addEventListener("click", newNoise);
    var controls = el("div", {class: "edu-gen-controls"});
    controls.appendChild(picker); controls.appendChild(again);
    container.appendChild(controls); container.appendChild(grid);
    container.eduGenExplorer = state;
    newNoise();
  }

  var MOUNT = {"latent-plane": mountLatentPlane, "interpolation": mountInterpolation,
               "class-samples": mountClassSamples};

  /** Mount every explorer of the page not mounted yet; an error is shown in its place. */
  function mountAll() {
    document.querySelectorAll(".edu-gen-explorer:not(.edu-gen-mounted)").forEach(function (container) {
      var kind = container.dataset.explorer;
      container.classList.add("edu-gen-mounted");
      try {
        if (kind === "gan-trainer") { eduGen.gan.mountTrainer(container); return; }
        if (!MOUNT[kind]) throw new Error("unknown explorer " + kind);
        container.textContent = "";
        MOUNT[kind](container);
      } catch (error) {
        container.textContent = "This explorer could not start: " + error.message;
        container.classList.add("edu-gen-failed");
        if (root.console) console.error("edu-gen explorer: " + error.message);
      }
    });
  }

  eduGen.explorers = {decode: decode, mountAll: mountAll, model: model};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})(window);
