// Draws every <div class="chart" data-chart='...'> with the locally served ECharts (no
// inline script: the page's data stays data). data-chart is {"labels": [...], "values":
// [...]} for one series, or {"labels": [...], "series": [{"name", "values"}, ...]};
// data-kind="columns" draws vertical bars, anything else horizontal ones.
document.addEventListener("DOMContentLoaded", function () {
  var colours = ["#0b4f9c", "#c4461a", "#116b2f"];
  document.querySelectorAll(".chart[data-chart]").forEach(function (node) {
    var data = JSON.parse(node.getAttribute("data-chart"));
    var series = data.series || [{ name: "", values: data.values }];
    var columns = node.getAttribute("data-kind") === "columns";
    var category = { type: "category", data: data.labels, inverse: !columns };
    var value = { type: "value", minInterval: 1 };
    var chart = echarts.init(node, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      legend: series.length > 1 ? { top: 0 } : undefined,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 8, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: columns ? category : value,
      yAxis: columns ? value : category,
      series: series.map(function (s, i) {
        return { type: "bar", name: s.name, data: s.values, itemStyle: { color: colours[i % 3] } };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
    node.setAttribute("data-drawn", "true");
  });
});
