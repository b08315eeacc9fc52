/* Draws each `.chart[data-chart]` (templates/_chart.html) with uPlot: one line per
   series over the period's days or weeks, sized to its box and redrawn when the box
   changes width. The table beside it closes once the chart is drawn (it stays one click
   away); without this script or uPlot it stays open. */
(function () {
  "use strict";
  if (typeof uPlot === "undefined") {
    return;
  }
  var COLOURS = ["#1f5eff", "#0f9d76", "#b26a00", "#c62828"];
  document.querySelectorAll(".chart[data-chart]").forEach(function (box) {
    var data = JSON.parse(box.getAttribute("data-chart"));
    var labels = data.labels;
    var xs = labels.map(function (_label, index) { return index; });
    var series = [{}].concat(data.series.map(function (pair, index) {
      return { label: pair[0], stroke: COLOURS[index % COLOURS.length], width: 2 };
    }));
    var values = [xs].concat(data.series.map(function (pair) { return pair[1]; }));
    function size() {
      return { width: Math.max(box.clientWidth, 200), height: 220 };
    }
    var options = Object.assign(size(), {
      series: series,
      scales: { x: { time: false } },
      axes: [
        { values: function (_u, ticks) { return ticks.map(function (tick) { return labels[tick] || ""; }); } },
        {}
      ],
      legend: { live: false }
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
