/* Draws each `.chart[data-chart]` (templates/_chart.html) with uPlot: "line" charts one
   line per series over the period's days or weeks, "bars" charts one bar per label, side
   by side when there are several series (a sequence step's sent, opened, clicked), sized
   to their box and redrawn when the box changes width. The table beside a chart closes
   once it is drawn (it stays one click away); without this script or uPlot it stays open. */
(function () {
  "use strict";
  if (typeof uPlot === "undefined") {
    return;
  }
  var COLOURS = ["#1f5eff", "#0f9d76", "#b26a00", "#c62828"];
  var WHOLE_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000];
  var GROUP = 0.8; // the share of a label's width its bars fill together
  var LABEL_CHARACTERS = 12; // a bar's label past this is cut (the table has it whole)

  function short(label) {
    var text = String(label);
    return text.length > LABEL_CHARACTERS ? text.slice(0, LABEL_CHARACTERS - 1) + "…" : text;
  }

  // Several series' bars beside one another under each label: series `index` has the
  // index-th share of the group's width, its bar (at most MAX_BAR px wide) in the middle.
  var MAX_BAR = 48;
  function barPaths(index, count, xs) {
    if (count < 2) {
      return uPlot.paths.bars({ size: [0.6, 64] });
    }
    var share = GROUP / count;
    function width(u) {
      var unit = Math.abs(u.valToPos(1, "x") - u.valToPos(0, "x")) || 1;
      return Math.min(share * 0.9, MAX_BAR / unit);
    }
    return uPlot.paths.bars({
      size: [share, Infinity],
      disp: {
        x0: { unit: 1, values: function (u) {
          var offset = index * share + (share - width(u)) / 2 - GROUP / 2;
          return xs.map(function (x) { return x + offset; });
        } },
        size: { unit: 1, values: function (u) {
          var each = width(u);
          return xs.map(function () { return each; });
        } }
      }
    });
  }
  document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
    var data = JSON.parse(box.getAttribute("data-chart"));
    var bars = data.kind === "bars";
    var labels = data.labels;
    var suffix = data.suffix || "";
    var xs = labels.map(function (_label, index) { return index; });
    var count = data.series.length;
    var series = [{}].concat(data.series.map(function (pair, index) {
      var colour = COLOURS[index % COLOURS.length];
      if (!bars) {
        return { label: pair[0], stroke: colour, width: 2 };
      }
      return {
        label: pair[0],
        stroke: colour,
        fill: colour,
        width: 0,
        paths: barPaths(index, count, xs),
        points: { show: false },
        value: function (_u, value) { return value == null ? "" : value + suffix; }
      };
    }));
    var values = [xs].concat(data.series.map(function (pair) { return pair[1]; }));
    function size() {
      return { width: Math.max(box.clientWidth, 200), height: bars ? 240 : 220 };
    }
    var xAxis = { values: function (_u, ticks) { return ticks.map(function (tick) { return bars ? short(labels[tick] || "") : labels[tick] || ""; }); } };
    // Whole steps only: counts (and rates in whole percents) have no 2.5.
    var yAxis = {
      incrs: WHOLE_STEPS,
      values: function (_u, ticks) { return ticks.map(function (tick) { return tick + suffix; }); }
    };
    var scales = { x: { time: false } };
    if (bars) {
      xAxis.splits = function () { return xs; };
      xAxis.gap = 4;
      xAxis.size = 40;
      // Labels that would overlap side by side (a phone, many channels) are slanted.
      if (box.clientWidth / Math.max(labels.length, 1) < 72) {
        xAxis.rotate = -40;
        xAxis.size = 72;
      }
      scales.x.range = function () { return [-0.5, labels.length - 0.5]; };
      scales.y = { range: function (_u, _min, max) { return [0, Math.max(max, 1) * 1.1]; } };
    }
    var options = Object.assign(size(), {
      series: series,
      scales: scales,
      axes: [xAxis, yAxis],
      legend: { live: false, show: count > 1 || !bars }
    });
    var chart = new uPlot(options, values, box);
    var table = box.parentNode.querySelector("details.chart-table");
    if (table) {
      table.open = false;
    }
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(function () { chart.setSize(size()); }).observe(box);
    }
  });
})();
