// Strata dashboard: draws every chart of the page with uPlot from the JSON the server wrote beside it.
(function () {
  "use strict";
  var palette = ["#2f5bea", "#c0362c", "#1a7f4b", "#b7791f", "#7c3aed", "#0e7490", "#be185d", "#4b5563"];
  // Axis labels short enough for the axis (p99 of a window with a /train in it is tens of thousands of ms).
  function compact(value) {
    if (value === null || value === undefined) {
      return "";
    }
    var size = Math.abs(value);
    if (size >= 1e6) {
      return +(value / 1e6).toFixed(1) + "M";
    }
    if (size >= 1e4) {
      return +(value / 1e3).toFixed(1) + "k";
    }
    return String(+value.toFixed(3));
  }
  function compactAll(self, splits) {
    return splits.map(compact);
  }
  var figures = document.querySelectorAll("figure[data-chart]");
  for (var i = 0; i < figures.length; i++) {
    var figure = figures[i];
    var source = figure.querySelector("script[type='application/json']");
    var area = figure.querySelector(".chart-area");
    if (!source || !area || typeof uPlot === "undefined") {
      continue;
    }
    var chart = JSON.parse(source.textContent);
    var series = [{ label: chart.xLabel }];
    var data = [chart.x];
    for (var s = 0; s < chart.series.length; s++) {
      var values = chart.series[s].values;
      // A value between two gaps draws no line: show the points of a series that has one (or of a short one).
      var isolated = chart.x.length < 50;
      for (var v = 0; v < values.length && !isolated; v++) {
        isolated = values[v] !== null && (v === 0 || values[v - 1] === null) && (v === values.length - 1 || values[v + 1] === null);
      }
      series.push({ label: chart.series[s].label, stroke: palette[s % palette.length], width: 2, points: { show: isolated, size: 5 } });
      data.push(values);
    }
    new uPlot({
      width: Math.max(320, area.clientWidth || 480),
      height: 200,
      scales: { x: { time: chart.xLabel === "time" } },
      axes: [{}, { size: 56, values: compactAll }],
      series: series,
      legend: { show: true },
    }, data, area);
    figure.setAttribute("data-drawn", "true");
  }
})();
