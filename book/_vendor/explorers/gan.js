/* edu-gen: the ring-of-8-Gaussians GAN of the mode-collapse chapter, trained in the page.
 *
 * The same run as edu_gen.toy_experiment.live_ring_run, in JavaScript (mlp.js): a generator
 * 2 -> 128 -> 128 -> 128 -> 2 (ReLU) and a discriminator 2 -> 128 -> 128 -> 128 -> 1
 * (LeakyReLU 0.2), 25,600 ring points in shuffled batches of 256 (100 steps an epoch, 10
 * epochs), Adam (lr 1e-3, betas 0.5, 0.999) held constant or decayed linearly to 0 per
 * epoch. One step is edu_gen.gan_train's: D's step (Eq. d-step) on a real batch and G(z),
 * then G's step (Eq. ns-loss) on the same G(z) through the updated D:
 *   d_loss = mean softplus(-D(x)) + mean softplus(D(G(z)))
 *   g_loss = mean softplus(-D(G(z)))
 * The metric is edu_gen.modes.mode_metric on G(z) of 1,000 fixed noise vectors (as the
 * chapter's snapshots count them), redrawn after every few steps. Sizes come
 * from the page (data-* attributes, written by edu_gen.widgets from the package).
 */
(function (root) {
  "use strict";
  var eduGen = root.eduGen = root.eduGen || {};
  if (eduGen.gan) return;   // loaded twice on one page
  var mlp = eduGen.mlp;
  var RADIUS = 2, SD = 0.02, MODES = 8, SD_RADIUS = 3;

  function ringCenters() {
    var c = [];
    for (var k = 0; k < MODES; k++) {
      var a = k * 2 * Math.PI / MODES;
      c.push([RADIUS * Math.cos(a), RADIUS * Math.sin(a)]);
    }
    return c;
  }

  /** edu_gen.modes.mode_metric for n samples (flat x, y pairs) on the ring. */
  function modeMetric(samples, n) {
    var centers = ringCenters(), counts = new Array(MODES).fill(0), good = 0;
    for (var i = 0; i < n; i++) {
      var best = Infinity, nearest = -1;
      for (var k = 0; k < MODES; k++) {
        var dx = samples[2 * i] - centers[k][0], dy = samples[2 * i + 1] - centers[k][1];
        var d = Math.sqrt(dx * dx + dy * dy);
        if (d < best) { best = d; nearest = k; }
      }
      if (best <= SD_RADIUS * SD) { good += 1; counts[nearest] += 1; }
    }
    return {modes: counts.filter(function (c) { return c > 0; }).length,
            high_quality: good / n, counts: counts};
  }

  function RingGAN(options) {
    var o = Object.assign({hidden: 128, layers: 3, lr: 1e-3, betas: [0.5, 0.999], batch: 256,
                           points: 25600, epochs: 10, decay: false, seed: 0, evalSamples: 1000}, options);
    this.options = o;
    var random = this.random = mlp.seededRandom(o.seed);
    var hidden = []; for (var l = 0; l < o.layers; l++) hidden.push(o.hidden);
    this.G = mlp.initNetwork([2].concat(hidden, [2]), {type: "relu"}, random);
    this.D = mlp.initNetwork([2].concat(hidden, [1]), {type: "leaky_relu", slope: 0.2}, random);
    this.resetOptimizers();
    var centers = ringCenters(), noise = mlp.gaussians(2 * o.points, random);
    this.data = new Float64Array(2 * o.points);
    for (var i = 0; i < o.points; i++) {
      var c = centers[Math.floor(random() * MODES)];
      this.data[2 * i] = c[0] + SD * noise[2 * i];
      this.data[2 * i + 1] = c[1] + SD * noise[2 * i + 1];
    }
    this.evalNoise = mlp.gaussians(2 * o.evalSamples, random);
    this.stepsPerEpoch = Math.floor(o.points / o.batch);
    this.totalSteps = this.stepsPerEpoch * o.epochs;
    this.steps = 0;
    this.order = null;
    this.history = [];
  }

  /** Start from given weights: specs as edu_gen.export writes them (G's, D's layers). */
  RingGAN.prototype.setNetworks = function (gSpec, dSpec) {
    this.G = mlp.network(gSpec); this.D = mlp.network(dSpec);
    this.resetOptimizers();
  };

  RingGAN.prototype.resetOptimizers = function () {
    var o = this.options;
    mlp.zeroGrad(this.G); mlp.zeroGrad(this.D);
    this.gOpt = new mlp.Adam(this.G, o.lr, o.betas);
    this.dOpt = new mlp.Adam(this.D, o.lr, o.betas);
  };

  /** The learning rate of the current epoch: lr (1 - epoch / epochs) with decay, else lr
   * (edu_gen.train.lr_schedule). */
  RingGAN.prototype.learningRate = function () {
    var epoch = Math.floor(this.steps / this.stepsPerEpoch);
    return this.options.decay ? this.options.lr * (1 - epoch / this.options.epochs) : this.options.lr;
  };

  /** One step of both networks on a real batch and noise z (flat, n rows of 2 each). */
  RingGAN.prototype.trainStep = function (real, z, n, lr) {
    var G = this.G, D = this.D, i;
    var gCache = [], fake = mlp.forward(G, z, n, gCache);
    // D's step: -[log D(x) + log(1 - D(G(z)))], the fakes detached (Eq. d-step)
    mlp.zeroGrad(D);
    var realCache = [], realLogits = mlp.forward(D, real, n, realCache);
    var fakeCache = [], fakeLogits = mlp.forward(D, fake, n, fakeCache);
    var dLoss = 0, dReal = 0, dFake = 0;
    var gReal = new Float64Array(n), gFake = new Float64Array(n);
    for (i = 0; i < n; i++) {
      dLoss += mlp.softplus(-realLogits[i]) / n + mlp.softplus(fakeLogits[i]) / n;
      gReal[i] = -(realLogits[i] < -20 ? 1 : mlp.sigmoid(-realLogits[i])) / n;
      gFake[i] = (fakeLogits[i] > 20 ? 1 : mlp.sigmoid(fakeLogits[i])) / n;
      dReal += mlp.sigmoid(realLogits[i]) / n; dFake += mlp.sigmoid(fakeLogits[i]) / n;
    }
    mlp.backward(D, realCache, gReal, n, true);
    mlp.backward(D, fakeCache, gFake, n, true);
    this.dOpt.step(lr);
    // G's step through the updated, frozen D: -log D(G(z)) (Eq. ns-loss)
    mlp.zeroGrad(G);
    var cache = [], logits = mlp.forward(D, fake, n, cache), gLoss = 0;
    var gLogits = new Float64Array(n);
    for (i = 0; i < n; i++) {
      gLoss += mlp.softplus(-logits[i]) / n;
      gLogits[i] = -(logits[i] < -20 ? 1 : mlp.sigmoid(-logits[i])) / n;
    }
    var gFakeInput = mlp.backward(D, cache, gLogits, n, false);
    mlp.backward(G, gCache, gFakeInput, n, true);
    this.gOpt.step(lr);
    return {d_loss: dLoss, g_loss: gLoss, d_real: dReal, d_fake: dFake};
  };

  /** The next step of the run: the next batch of the shuffled ring points, fresh noise. */
  RingGAN.prototype.step = function () {
    if (this.steps >= this.totalSteps) return null;
    var o = this.options, n = o.batch, inEpoch = this.steps % this.stepsPerEpoch;
    if (inEpoch === 0) {        // a new epoch: shuffle the points (Fisher-Yates)
      this.order = new Uint32Array(o.points);
      for (var i = 0; i < o.points; i++) this.order[i] = i;
      for (var j = o.points - 1; j > 0; j--) {
        var r = Math.floor(this.random() * (j + 1)), t = this.order[j];
        this.order[j] = this.order[r]; this.order[r] = t;
      }
    }
    var real = new Float64Array(2 * n);
    for (var b = 0; b < n; b++) {
      var row = this.order[inEpoch * n + b];
      real[2 * b] = this.data[2 * row]; real[2 * b + 1] = this.data[2 * row + 1];
    }
    var metrics = this.trainStep(real, mlp.gaussians(2 * n, this.random), n, this.learningRate());
    this.steps += 1;
    this.last = metrics;
    return metrics;
  };

  /** G(z) of the fixed evaluation noise. */
  RingGAN.prototype.samples = function () {
    return mlp.forward(this.G, this.evalNoise, this.options.evalSamples);
  };

  /** D's probability sigmoid(D(x)) on an n x n grid over [-extent, extent]^2, rows top down. */
  RingGAN.prototype.probabilityGrid = function (n, extent) {
    var x = new Float64Array(2 * n * n);
    for (var r = 0; r < n; r++) for (var c = 0; c < n; c++) {
      x[2 * (r * n + c)] = -extent + (c + 0.5) * 2 * extent / n;
      x[2 * (r * n + c) + 1] = extent - (r + 0.5) * 2 * extent / n;
    }
    var logits = mlp.forward(this.D, x, n * n), p = new Float64Array(n * n);
    for (var i = 0; i < p.length; i++) p[i] = mlp.sigmoid(logits[i]);
    return p;
  };

  // --- the page: canvas, buttons, readout ----------------------------------------------

  var EXTENT = 2.7, GRID = 20;   // D's probability on 20 x 20 points, drawn smoothly

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /** Mount the trainer in `container` (data-* attributes: the run's sizes). */
  function mountTrainer(container) {
    var d = container.dataset;
    var options = {hidden: +d.hidden || 128, layers: +d.layers || 3, lr: +d.lr || 1e-3,
                   batch: +d.batch || 256, points: +d.points || 25600, epochs: +d.epochs || 10,
                   evalSamples: +d.evalSamples || 1000,
                   betas: d.betas ? JSON.parse(d.betas) : [0.5, 0.999]};
    container.textContent = "";
    container.classList.add("edu-gen-mounted");
    var size = 360;
    var background = el("canvas", {width: GRID, height: GRID});
    var canvas = el("canvas", {width: size, height: size, class: "edu-gen-gan-canvas",
                               "aria-label": "the GAN's samples over D's probability"});
    var chart = el("canvas", {width: size, height: 90, class: "edu-gen-gan-chart",
                              "aria-label": "modes covered over the steps"});
    var play = el("button", {type: "button"}, "play"), stepButton = el("button", {type: "button"}, "step");
    var reset = el("button", {type: "button"}, "new run");
    var choice = el("select", {"aria-label": "learning rate"});
    choice.appendChild(el("option", {value: "constant"}, "lr constant (collapses)"));
    choice.appendChild(el("option", {value: "decay"}, "lr decayed to 0 (the fix)"));
    var readout = el("pre", {class: "edu-gen-readout"});
    var controls = el("div", {class: "edu-gen-controls"});
    [play, stepButton, reset, choice].forEach(function (e) { controls.appendChild(e); });
    var left = el("div", {class: "edu-gen-column"}), right = el("div", {class: "edu-gen-column"});
    left.appendChild(canvas);
    right.appendChild(controls); right.appendChild(readout); right.appendChild(chart);
    right.appendChild(el("p", {class: "edu-gen-legend"},
      "Red: G(z) of " + options.evalSamples + " fixed noise vectors, the points the metric counts. Black crosses: the 8 modes. Background: D's " +
      "probability that a point is real (green high, purple low). Chart: modes covered (black) " +
      "and high-quality share (red) every 10 steps."));
    var row = el("div", {class: "edu-gen-row"});
    row.appendChild(left); row.appendChild(right);
    container.appendChild(row);

    var state = {gan: null, running: false, seed: +d.seed || 0, redrawTimes: [], stepTimes: [],
                 metric: null};
    container.eduGenTrainer = state;

    function start() {
      options.decay = choice.value === "decay";
      options.seed = state.seed;
      state.gan = new RingGAN(options);
      redraw();
    }

    function redraw() {
      var t0 = performance.now(), gan = state.gan;
      var ctx = canvas.getContext("2d"), p = gan.probabilityGrid(GRID, EXTENT);
      var shade = background.getContext("2d"), image = shade.createImageData(GRID, GRID);
      for (var i = 0; i < GRID * GRID; i++) {   // purple (0) -> white (0.5) -> green (1)
        var q = p[i], up = Math.max(0, 2 * q - 1), down = Math.max(0, 1 - 2 * q);
        image.data[4 * i] = 255 - 120 * up - 90 * down;
        image.data[4 * i + 1] = 255 - 40 * up - 140 * down;
        image.data[4 * i + 2] = 255 - 120 * up - 40 * down;
        image.data[4 * i + 3] = 255;
      }
      shade.putImageData(image, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(background, 0, 0, size, size);
      var toPixel = function (v) { return (v + EXTENT) / (2 * EXTENT) * size; };
      var samples = gan.samples(), n = gan.options.evalSamples;
      ctx.fillStyle = "rgba(214, 39, 40, 0.45)";
      for (i = 0; i < n; i++) ctx.fillRect(toPixel(samples[2 * i]) - 1, size - toPixel(samples[2 * i + 1]) - 1, 2, 2);
      ctx.strokeStyle = "black"; ctx.lineWidth = 1.5;
      ringCenters().forEach(function (c) {
        var x = toPixel(c[0]), y = size - toPixel(c[1]);
        ctx.beginPath(); ctx.moveTo(x - 5, y - 5); ctx.lineTo(x + 5, y + 5);
        ctx.moveTo(x - 5, y + 5); ctx.lineTo(x + 5, y - 5); ctx.stroke();
      });
      var metric = state.metric = modeMetric(samples, n);
      if (gan.steps % 10 === 0 && (!gan.history.length || gan.history[gan.history.length - 1].step !== gan.steps)) {
        gan.history.push({step: gan.steps, modes: metric.modes, high_quality: metric.high_quality});
      }
      drawChart(gan);
      var last = gan.last || {};
      var fmt = function (v) { return v === undefined ? "-" : v.toFixed(3); };
      readout.textContent =
        "step " + gan.steps + " / " + gan.totalSteps + "  (epoch " +
        Math.min(gan.options.epochs, Math.floor(gan.steps / gan.stepsPerEpoch) + 1) + ", lr " +
        gan.learningRate().toExponential(1) + ")\n" +
        "D loss " + fmt(last.d_loss) + "   G loss " + fmt(last.g_loss) + "\n" +
        "modes covered " + metric.modes + " / 8, high quality " + (100 * metric.high_quality).toFixed(1) + " %";
      state.redrawTimes.push(performance.now() - t0);
    }

    function drawChart(gan) {
      var ctx = chart.getContext("2d"), w = chart.width, h = chart.height;
      ctx.fillStyle = "white"; ctx.fillRect(0, 0, w, h);
      ctx.strokeStyle = "#ccc"; ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
      var x = function (step) { return 4 + (w - 8) * step / gan.totalSteps; };
      [["modes", 8, "black"], ["high_quality", 1, "rgb(214, 39, 40)"]].forEach(function (line) {
        ctx.strokeStyle = line[2]; ctx.beginPath();
        gan.history.forEach(function (point, i) {
          var y = h - 4 - (h - 8) * point[line[0]] / line[1];
          if (i === 0) ctx.moveTo(x(point.step), y); else ctx.lineTo(x(point.step), y);
        });
        ctx.stroke();
      });
    }

    function frame() {
      if (!state.running) return;
      var t0 = performance.now();
      do {                             // train for about 100 ms, then draw
        var s0 = performance.now();
        if (!state.gan.step()) { state.running = false; play.textContent = "play"; break; }
        state.stepTimes.push(performance.now() - s0);
      } while (performance.now() - t0 < 100 && state.gan.steps % 10 !== 0);
      redraw();
      if (state.running) root.requestAnimationFrame(frame);
    }

    play.addEventListener("click", function () {
      state.running = !state.running;
      play.textContent = state.running ? "pause" : "play";
      if (state.running) root.requestAnimationFrame(frame);
    });
    stepButton.addEventListener("click", function () {
      state.running = false; play.textContent = "play";
      var s0 = performance.now();
      if (state.gan.step()) state.stepTimes.push(performance.now() - s0);
      redraw();
    });
    reset.addEventListener("click", function () { state.seed += 1; start(); });
    choice.addEventListener("change", start);
    state.start = start; state.redraw = redraw;
    start();
  }

  eduGen.gan = {RingGAN: RingGAN, modeMetric: modeMetric, ringCenters: ringCenters,
                mountTrainer: mountTrainer};
})(window);
