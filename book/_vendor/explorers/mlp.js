/* edu-gen: small fully connected networks in plain JavaScript, for the book's website.
 *
 * The book's explorers and its in-page GAN run these instead of a Python kernel. A network
 * is an array of layers, as edu_gen/export.py writes them:
 *   {type: "linear", in, out, W (out x in, row-major, PyTorch's layout), b}
 *   {type: "relu"} | {type: "leaky_relu", slope} | {type: "tanh"} | {type: "sigmoid"}
 * A batch is a flat Float64Array of n rows. Sums are taken in double precision, so an output
 * differs from PyTorch's float32 one by float32 rounding only.
 *
 * For training (the GAN of the mode-collapse chapter): forward() keeps each layer's input,
 * backward() returns the gradient of the input and adds the weights' gradients to the
 * layers' gW, gb; Adam is torch.optim.Adam's update, step for step.
 * No library, nothing fetched: a file of the book (edu_gen's license).
 */
(function (root) {
  "use strict";
  var eduGen = root.eduGen = root.eduGen || {};
  if (eduGen.mlp) return;   // loaded twice on one page

  /** A float32 array written by edu_gen.export.encode_array, as a Float32Array. */
  function decodeArray(entry) {
    if (entry.dtype !== "float32") throw new Error("model arrays are float32, got " + entry.dtype);
    var text = atob(entry.base64), bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var view = new DataView(bytes.buffer), out = new Float32Array(bytes.length / 4);
    for (var j = 0; j < out.length; j++) out[j] = view.getFloat32(4 * j, true);  // little-endian
    return out;
  }

  /** The layers of a spec (edu_gen.export) with their arrays decoded. The float32 weights
   * are held as Float64Array (exactly the same numbers), the one array type of the kernels. */
  function network(spec) {
    return spec.layers.map(function (layer) {
      if (layer.type !== "linear") return {type: layer.type, slope: layer.slope};
      return {type: "linear", in: layer.in, out: layer.out,
              W: Float64Array.from(decodeArray(layer.weight)), b: Float64Array.from(decodeArray(layer.bias))};
    });
  }

  /** C (m x n) = A (m x k) B (n x k)^T, every matrix a row-major Float64Array: the one
   * kernel of forward and backward. Rows of A and B are read contiguously; a block of two
   * rows of C by four columns keeps eight independent sums, each load serving several. */
  function matmulABt(A, B, m, n, k, C) {
    var i = 0, j, p, a0i, a1i, a0, a1, x0, x1, x2, x3, b0, b1, b2, b3;
    var s00, s01, s02, s03, s10, s11, s12, s13;
    for (; i + 1 < m; i += 2) {
      a0i = i * k; a1i = a0i + k;
      for (j = 0; j + 3 < n; j += 4) {
        b0 = j * k; b1 = b0 + k; b2 = b1 + k; b3 = b2 + k;
        s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0;
        for (p = 0; p < k; p++) {
          a0 = A[a0i + p]; a1 = A[a1i + p];
          x0 = B[b0 + p]; x1 = B[b1 + p]; x2 = B[b2 + p]; x3 = B[b3 + p];
          s00 += a0 * x0; s01 += a0 * x1; s02 += a0 * x2; s03 += a0 * x3;
          s10 += a1 * x0; s11 += a1 * x1; s12 += a1 * x2; s13 += a1 * x3;
        }
        b0 = i * n + j; b1 = b0 + n;
        C[b0] = s00; C[b0 + 1] = s01; C[b0 + 2] = s02; C[b0 + 3] = s03;
        C[b1] = s10; C[b1 + 1] = s11; C[b1 + 2] = s12; C[b1 + 3] = s13;
      }
      for (; j < n; j++) {             // the last columns, one at a time
        b0 = j * k; s00 = s10 = 0;
        for (p = 0; p < k; p++) { s00 += A[a0i + p] * B[b0 + p]; s10 += A[a1i + p] * B[b0 + p]; }
        C[i * n + j] = s00; C[(i + 1) * n + j] = s10;
      }
    }
    for (; i < m; i++) {               // an odd last row
      a0i = i * k;
      for (j = 0; j < n; j++) {
        b0 = j * k; s00 = 0;
        for (p = 0; p < k; p++) s00 += A[a0i + p] * B[b0 + p];
        C[i * n + j] = s00;
      }
    }
    return C;
  }

  /** The transpose (cols x rows) of a rows x cols row-major matrix. */
  function transpose(X, rows, cols) {
    var T = new Float64Array(rows * cols);
    for (var r = 0; r < rows; r++) for (var c = 0; c < cols; c++) T[c * rows + r] = X[r * cols + c];
    return T;
  }

  /** y = x W^T + b for n rows of x. */
  function linearForward(layer, x, n) {
    var nout = layer.out, y = matmulABt(x, layer.W, n, nout, layer.in, new Float64Array(n * nout));
    for (var i = 0; i < n; i++) for (var o = 0; o < nout; o++) y[i * nout + o] += layer.b[o];
    return y;
  }

  function activationForward(layer, x) {
    var y = new Float64Array(x.length), i;
    switch (layer.type) {
      case "relu": for (i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0; break;
      case "leaky_relu": for (i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : layer.slope * x[i]; break;
      case "tanh": for (i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]); break;
      case "sigmoid": for (i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i])); break;
      default: throw new Error("unknown layer type " + layer.type);
    }
    return y;
  }

  /** The network's output for n input rows x; with `cache` (an array), each layer's input
   * is pushed onto it for backward(). */
  function forward(net, x, n, cache) {
    var h = x;
    for (var l = 0; l < net.length; l++) {
      if (cache) cache.push(h);
      h = net[l].type === "linear" ? linearForward(net[l], h, n) : activationForward(net[l], h);
    }
    return h;
  }

  /** Back through the network: dy is the gradient of the output (n rows); returns the
   * gradient of the input. With `accumulate`, each linear layer's gW, gb grow by its weights'
   * gradient (a frozen network: leave it false). */
  function backward(net, cache, dy, n, accumulate) {
    var g = dy;
    for (var l = net.length - 1; l >= 0; l--) {
      var layer = net[l], x = cache[l], i;
      if (layer.type === "linear") {
        var nin = layer.in, nout = layer.out;
        if (accumulate) {            // gW += g^T x, gb += the column sums of g
          var gW = matmulABt(transpose(g, n, nout), transpose(x, n, nin), nout, nin, n,
                             new Float64Array(nout * nin));
          for (i = 0; i < gW.length; i++) layer.gW[i] += gW[i];
          for (i = 0; i < n; i++) for (var o = 0; o < nout; o++) layer.gb[o] += g[i * nout + o];
        }
        // the input's gradient: g W = g (W^T)^T
        g = matmulABt(g, transpose(layer.W, nout, nin), n, nin, nout, new Float64Array(n * nin));
      } else {
        var gin = new Float64Array(g.length);
        switch (layer.type) {
          case "relu": for (i = 0; i < g.length; i++) gin[i] = x[i] > 0 ? g[i] : 0; break;
          case "leaky_relu": for (i = 0; i < g.length; i++) gin[i] = x[i] > 0 ? g[i] : layer.slope * g[i]; break;
          case "tanh": for (i = 0; i < g.length; i++) { var t = Math.tanh(x[i]); gin[i] = g[i] * (1 - t * t); } break;
          case "sigmoid": for (i = 0; i < g.length; i++) { var s = 1 / (1 + Math.exp(-x[i])); gin[i] = g[i] * s * (1 - s); } break;
          default: throw new Error("unknown layer type " + layer.type);
        }
        g = gin;
      }
    }
    return g;
  }

  /** Zero the weights' gradients of every linear layer (creating them on first use). */
  function zeroGrad(net) {
    net.forEach(function (layer) {
      if (layer.type !== "linear") return;
      if (!layer.gW) { layer.gW = new Float64Array(layer.W.length); layer.gb = new Float64Array(layer.b.length); }
      else { layer.gW.fill(0); layer.gb.fill(0); }
    });
  }

  /** The parameters of a network as [value, gradient] pairs (W then b of each linear layer,
   * the order of PyTorch's parameters()). */
  function parameters(net) {
    var out = [];
    net.forEach(function (layer) {
      if (layer.type === "linear") { out.push([layer.W, layer.gW]); out.push([layer.b, layer.gb]); }
    });
    return out;
  }

  /** torch.optim.Adam (no weight decay, no amsgrad): the same update, in double precision. */
  function Adam(net, lr, betas, eps) {
    this.net = net; this.lr = lr; this.beta1 = betas[0]; this.beta2 = betas[1];
    this.eps = eps === undefined ? 1e-8 : eps; this.t = 0;
    this.m = parameters(net).map(function (p) { return new Float64Array(p[0].length); });
    this.v = parameters(net).map(function (p) { return new Float64Array(p[0].length); });
  }
  Adam.prototype.step = function (lr) {
    lr = lr === undefined ? this.lr : lr;
    this.t += 1;
    var b1 = this.beta1, b2 = this.beta2, eps = this.eps, m = this.m, v = this.v;
    var stepSize = lr / (1 - Math.pow(b1, this.t)), root2 = Math.sqrt(1 - Math.pow(b2, this.t));
    parameters(this.net).forEach(function (p, j) {
      var w = p[0], g = p[1], mj = m[j], vj = v[j];
      for (var i = 0; i < w.length; i++) {
        mj[i] = b1 * mj[i] + (1 - b1) * g[i];
        vj[i] = b2 * vj[i] + (1 - b2) * g[i] * g[i];
        w[i] -= stepSize * mj[i] / (Math.sqrt(vj[i]) / root2 + eps);
      }
    });
  };

  /** A network of the given sizes with PyTorch's default initialisation of nn.Linear
   * (weights and biases uniform in +-1/sqrt(fan_in)); `activation` between the layers. */
  function initNetwork(sizes, activation, random) {
    var net = [];
    for (var l = 0; l + 1 < sizes.length; l++) {
      var nin = sizes[l], nout = sizes[l + 1], bound = 1 / Math.sqrt(nin);
      var W = new Float64Array(nin * nout), b = new Float64Array(nout);
      for (var i = 0; i < W.length; i++) W[i] = (2 * random() - 1) * bound;
      for (var j = 0; j < nout; j++) b[j] = (2 * random() - 1) * bound;
      net.push({type: "linear", in: nin, out: nout, W: W, b: b});
      if (l + 2 < sizes.length) net.push(Object.assign({}, activation));
    }
    return net;
  }

  /** A seeded uniform random number generator in [0, 1) (mulberry32). */
  function seededRandom(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** n standard normal numbers from a uniform generator (Box-Muller). */
  function gaussians(n, random) {
    var out = new Float64Array(n);
    for (var i = 0; i < n; i += 2) {
      var r = Math.sqrt(-2 * Math.log(1 - random())), a = 2 * Math.PI * random();
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    return out;
  }

  /** The network's input for codes z (n rows of latentDim) and, for a conditional model,
   * one label per row: z with the one-hot label appended (edu_gen.nets.one_hot). */
  function withLabels(z, n, latentDim, nClasses, labels) {
    if (!nClasses) return z;
    var width = latentDim + nClasses, x = new Float64Array(n * width);
    for (var i = 0; i < n; i++) {
      for (var k = 0; k < latentDim; k++) x[i * width + k] = z[i * latentDim + k];
      x[i * width + latentDim + labels[i]] = 1;
    }
    return x;
  }

  /** softplus(x) = log(1 + e^x) as torch.nn.functional.softplus computes it (x above 20: x). */
  function softplus(x) { return x > 20 ? x : Math.log1p(Math.exp(x)); }
  function sigmoid(x) { return 1 / (1 + Math.exp(-x)); }

  eduGen.mlp = {
    decodeArray: decodeArray, network: network, forward: forward, backward: backward,
    matmulABt: matmulABt, transpose: transpose,
    zeroGrad: zeroGrad, parameters: parameters, Adam: Adam, initNetwork: initNetwork,
    seededRandom: seededRandom, gaussians: gaussians, withLabels: withLabels,
    softplus: softplus, sigmoid: sigmoid
  };
})(window);
