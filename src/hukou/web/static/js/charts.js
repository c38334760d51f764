// Draws every <div class="chart" data-chart='{"labels": [...], "values": [...]}'> with the
// locally served ECharts (no inline script: the page's data stays data).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-chart]").forEach(function (node) {
    var data = JSON.parse(node.getAttribute("data-chart"));
    var chart = echarts.init(node, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels, inverse: true },
      series: [{ type: "bar", data: data.values, itemStyle: { color: "#0b4f9c" } }],
    });
    window.addEventListener("resize", function () { chart.resize(); });
    node.setAttribute("data-drawn", "true");
  });
});
