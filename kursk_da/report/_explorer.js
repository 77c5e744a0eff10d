// The weight explorer of the HTML report (kursk_da/report/_explorer.py embeds it inline).
// Plain JavaScript, no external reference; it reads the JSON of #kd-explorer-data.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("kd-explorer-data").textContent);
  function decode(b64) {
    var bin = atob(b64), buf = new ArrayBuffer(bin.length), u8 = new Uint8Array(buf);
    for (var i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    var dv = new DataView(buf), out = new Float64Array(bin.length / 8);
    for (var k = 0; k < out.length; k++) out[k] = dv.getFloat64(8 * k, true);
    return out;
  }
  var A = decode(D.attribute_values), W = decode(D.weights);
  var n = D.n, J = D.options.length, K = D.attributes.length;
  // formatting: the port of kursk_da/report/_numbers.py
  function mcseDecimals(se) {
    if (!isFinite(se) || se <= 0) return null;
    return -Math.floor(Math.log10(se));
  }
  function fallbackDecimals(x) {
    if (!isFinite(x) || x === 0) return 0;
    return 3 - 1 - Math.floor(Math.log10(Math.abs(x)));
  }
  function fixed(x, d) {
    if (!isFinite(x)) return isNaN(x) ? "n/a" : String(x);
    var a = Math.abs(x), s;
    if (d >= 0) { s = a.toFixed(d); } else { var p = Math.pow(10, -d); s = (Math.round(a / p) * p).toFixed(0); }
    var parts = s.split("."), ip = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    s = parts.length > 1 ? ip + "." + parts[1] : ip;
    return (x < 0 && /[1-9]/.test(s)) ? "-" + s : s;
  }
  function estimate(x, se) { var d = mcseDecimals(se); return fixed(x, d === null ? fallbackDecimals(x) : d); }
  function withError(x, se) {
    var d = mcseDecimals(se);
    return d === null ? estimate(x, se) : fixed(x, d) + " \u00b1 " + fixed(se, d);
  }
  function mean(a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; return s / a.length; }
  function seMean(a) {
    var m = mean(a), s = 0;
    for (var i = 0; i < a.length; i++) s += (a[i] - m) * (a[i] - m);
    return Math.sqrt(s / (a.length - 1)) / Math.sqrt(a.length);
  }
  function quantile(sorted, q) {  // numpy's default (linear) quantile
    var h = (sorted.length - 1) * q, lo = Math.floor(h), hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }
  function compute(s, r, keep) {
    var w = new Float64Array(K), v = [], j, i, k;
    for (j = 0; j < J; j++) v.push(new Float64Array(n));
    for (i = 0; i < n; i++) {
      for (k = 0; k < K; k++) {
        var m = D.prior_mean[k], wi = W[i * K + k];
        w[k] = !keep ? s[k] : (m !== 0 ? wi * (s[k] / m) : wi + (s[k] - m));
      }
      for (j = 0; j < J; j++) {
        var t = 0, base = (i * J + j) * K;
        for (k = 0; k < K; k++) t += A[base + k] * w[k];
        v[j][i] = t;
      }
    }
    var best = [], ev = [], evse = [], ce = [], pb = [], pbse = [], cv = [], cvse = [];
    for (j = 0; j < J; j++) best.push(new Float64Array(n));
    for (i = 0; i < n; i++) {
      var bj = 0;
      for (j = 1; j < J; j++) if (v[j][i] > v[bj][i]) bj = j;
      best[bj][i] = 1;
    }
    for (j = 0; j < J; j++) {
      ev.push(mean(v[j])); evse.push(seMean(v[j]));
      pb.push(mean(best[j])); pbse.push(seMean(best[j]));
      var srt = Float64Array.from(v[j]).sort(), kk = D.alpha * n, whole = Math.floor(kk);
      var frac = kk - whole, tot = 0;
      for (i = 0; i < whole; i++) tot += srt[i];
      if (frac > 0 && whole < n) tot += frac * srt[whole];
      cv.push(tot / kk);
      var q = quantile(srt, D.alpha), f = new Float64Array(n);
      for (i = 0; i < n; i++) f[i] = q + Math.min(v[j][i] - q, 0) / D.alpha;
      cvse.push(seMean(f));
      if (r > 0) {
        var mx = -Infinity;
        for (i = 0; i < n; i++) mx = Math.max(mx, -r * v[j][i]);
        var se2 = 0;
        for (i = 0; i < n; i++) se2 += Math.exp(-r * v[j][i] - mx);
        ce.push(-(mx + Math.log(se2) - Math.log(n)) / r);
      } else { ce.push(ev[j]); }
    }
    var order = [];
    for (j = 0; j < J; j++) order.push(j);
    order.sort(function (a, b) { return ce[b] - ce[a] || a - b; });
    return {ev: ev, ev_mcse: evse, ce: ce, prob_best: pb, prob_best_mcse: pbse, cvar: cv,
            cvar_mcse: cvse, order: order};
  }
  var sliders = D.attributes.map(function (a) { return document.getElementById("kd-w-" + a); });
  var risk = document.getElementById("kd-risk"), keep = document.getElementById("kd-keep");
  var body = document.getElementById("kd-explorer-rows"), best = document.getElementById("kd-explorer-best");
  // the settings: exact prior means after a reset, else what the browser holds in a slider
  var cur = D.prior_mean.slice(), curRisk = 0;
  function settings() { return {weights: cur.slice(), risk: curRisk, keep: keep.checked}; }
  function update() {
    var s = cur, r = curRisk, res = compute(s, r, keep.checked);
    sliders.forEach(function (el, k) {
      document.getElementById("kd-w-" + D.attributes[k] + "-out").textContent = Number(s[k]).toPrecision(3);
    });
    document.getElementById("kd-risk-out").textContent = r === 0 ? "0 (risk neutral)" : Number(r).toPrecision(3);
    // every cell as a text node: an option name is data, never markup (issue 23)
    function cell(tag, cls, text) {
      var el = document.createElement(tag);
      if (cls) el.className = cls;
      el.textContent = text;
      return el;
    }
    var frag = document.createDocumentFragment();
    res.order.forEach(function (j, pos) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-option", D.options[j]);
      tr.appendChild(cell("td", "num rank", String(pos + 1)));
      tr.appendChild(cell("th", "", D.options[j]));
      tr.appendChild(cell("td", "num ev", withError(res.ev[j], res.ev_mcse[j])));
      tr.appendChild(cell("td", "num ce", estimate(res.ce[j], res.ev_mcse[j])));
      tr.appendChild(cell("td", "num pbest", estimate(res.prob_best[j], res.prob_best_mcse[j])));
      tr.appendChild(cell("td", "num cvar", withError(res.cvar[j], res.cvar_mcse[j])));
      frag.appendChild(tr);
    });
    while (body.firstChild) body.removeChild(body.firstChild);
    body.appendChild(frag);
    var top = res.order[0], second = res.order[1];
    best.textContent = "With these settings: " + D.options[top] + " ranks first (" +
      (r > 0 ? "certainty equivalent " : "expected value ") + estimate(res.ce[top], res.ev_mcse[top]) +
      " dkm2), ahead of " + D.options[second] + " (" + estimate(res.ce[second], res.ev_mcse[second]) + " dkm2).";
    window.kdExplorer.last = res;
  }
  function reset() {
    sliders.forEach(function (el, k) { el.value = String(D.prior_mean[k]); });
    cur = D.prior_mean.slice(); curRisk = 0;
    risk.value = "0"; keep.checked = true; update();
  }
  window.kdExplorer = {compute: compute, update: update, reset: reset, settings: settings,
                       data: D, last: null};
  sliders.forEach(function (el, k) {
    function moved() { cur[k] = parseFloat(el.value); update(); }
    el.addEventListener("input", moved);
    el.addEventListener("change", moved);
  });
  function riskMoved() { curRisk = parseFloat(risk.value); update(); }
  risk.addEventListener("input", riskMoved);
  risk.addEventListener("change", riskMoved);
  keep.addEventListener("input", update);
  keep.addEventListener("change", update);
  document.getElementById("kd-reset").addEventListener("click", reset);
  reset();
})();
