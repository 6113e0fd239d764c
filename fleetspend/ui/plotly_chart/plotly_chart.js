// fleetspend's Plotly chart (a Streamlit custom component, drawn in the page itself).
//
// Draws the figure fleetspend.ui.charts.draw sends with one of plotly.js's partial bundles
// (bars and lines: "basic", about a quarter of the full plotly.js that st.plotly_chart
// loads; maps: "geo"), so that a fresh browser session draws its first chart sooner.
// Charts are drawn one at a time in page order, a frame apart, so the first is painted
// before the next is drawn; a bundle is run when the first chart needing it comes up (the
// page has the basic one fetched early: fleetspend/ui/assets.py), the geo one fetched then.
// A click on a point of a clickable chart sends its points as the "selection" trigger,
// shaped as st.plotly_chart's selection ({"selection": {"points": [...]}}). A chart is
// redrawn to its column's width when that changes. A waiter (data.after_charts) joins the
// queue and sends the "drawn" trigger when its turn comes.

// the bundles' file names carry their version: the server marks them immutable
const BUNDLES = { basic: "plotly-basic-4.1.1.min.js", geo: "plotly-geo-4.1.1.min.js" };
const loaded = {}; // bundle name -> promise of that bundle's Plotly object
let drawing = Promise.resolve(); // the queue of charts to draw, in the order they came

function load(bundle) {
  // each bundle sets window.Plotly as it runs; loads happen one at a time (in the drawing
  // queue), so each bundle's own object is kept before the next one runs
  loaded[bundle] ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL(BUNDLES[bundle], import.meta.url).href;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => reject(new Error(`could not load ${script.src}`));
    document.head.appendChild(script);
  });
  return loaded[bundle];
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
}

function themed(layout, element) {
  // the page's font and text colour, on a transparent background, as Streamlit's charts
  const style = getComputedStyle(element);
  const font = { family: style.fontFamily, color: style.color };
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    ...layout,
    font: { ...font, ...layout.font },
    hoverlabel: { font: { family: style.fontFamily }, ...layout.hoverlabel },
  };
}

function selection(points) {
  return {
    points: points.map((point) => ({
      customdata: point.customdata ?? null,
      curve_number: point.curveNumber,
      point_index: point.pointIndex ?? point.pointNumber,
      x: point.x ?? null,
      y: point.y ?? null,
    })),
  };
}

async function draw(chart, { figure, bundle, clickable }) {
  const Plotly = await load(bundle);
  const spec = JSON.parse(figure);
  await Plotly.react(chart, spec.data, themed(spec.layout, chart), spec.config);
  if (!chart.dataset.resizing) {
    // as wide as its column, when the column changes (the sidebar closed, the window resized)
    chart.dataset.resizing = "yes";
    let width = chart.clientWidth;
    new ResizeObserver(() => {
      if (chart.clientWidth !== width && chart.isConnected) {
        width = chart.clientWidth;
        Plotly.Plots.resize(chart);
      }
    }).observe(chart);
  }
  if (clickable && !chart.dataset.listening) {
    chart.dataset.listening = "yes";
    chart.on("plotly_click", (event) => chart.send("selection", selection(event.points ?? [])));
  }
}

export default function ({ data, parentElement, setTriggerValue }) {
  if (data.after_charts) {
    // a waiter (fleetspend.ui.charts.below_the_charts): once the charts before it in the
    // queue are drawn, it asks for what it stands in for
    let gone = false;
    drawing = drawing.then(() => {
      if (!gone) setTriggerValue("drawn", true);
    });
    return () => {
      gone = true;
    };
  }
  let chart = parentElement.querySelector(".fleetspend-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "fleetspend-chart";
    parentElement.appendChild(chart);
  }
  chart.style.height = `${data.height}px`; // the chart's room, kept while it waits its turn
  chart.send = setTriggerValue; // this run's: a click reports to the latest script run
  let gone = false;
  drawing = drawing
    .then(async () => {
      if (gone) return;
      await draw(chart, data);
      await nextFrame();
    })
    .catch((error) => {
      console.error("fleetspend chart", error);
      chart.textContent = "This chart could not be drawn; reload the page to try again.";
    });
  return () => {
    gone = true;
  };
}
