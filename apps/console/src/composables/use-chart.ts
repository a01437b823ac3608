/**
 * Chart.js for the console's charts, registered piece by piece so that the bundle carries only the
 * controllers, elements, scales and plugins drawn here (the chart components load lazily, with this).
 * The charts draw on a canvas: nothing is injected into the page's styles, which the
 * Content-Security-Policy would have to allow.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type DefaultDataPoint,
  type Plugin,
  type Scale,
  type Tick,
} from 'chart.js';
import { onBeforeUnmount, watch, type Ref } from 'vue';
import { timeTickLabel, timeTicks } from '@/utils/time-ticks';

/** Series colors, in order: the palette the charts had under ECharts, so that they read as before. */
export const CHART_COLORS = [
  '#5070dd',
  '#b6d634',
  '#505372',
  '#ff994d',
  '#0ca8df',
  '#ffd10a',
  '#fb628b',
  '#785db0',
  '#3fbe95',
] as const;

export function chartColor(index: number): string {
  return CHART_COLORS[index % CHART_COLORS.length]!;
}

/** `#rrggbb` with an opacity, for filled areas under a line. */
export function withAlpha(hex: string, alpha: number): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

/** A vertical line under the pointer while the tooltip shows, as the charts had: which instant is read. */
const hoverLine: Plugin = {
  id: 'hoverLine',
  afterDatasetsDraw(chart) {
    const active = chart.tooltip?.getActiveElements() ?? [];
    const x = active[0]?.element.x;
    if (x === undefined || active.length === 0) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.strokeStyle = '#b6bdc9';
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(x, chartArea.top);
    ctx.lineTo(x, chartArea.bottom);
    ctx.stroke();
    ctx.restore();
  },
};

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  hoverLine,
);

// The look of the rest of the console (Naive UI's light theme): its font, grey text, faint grid lines,
// and light tooltips.
Chart.defaults.font.family =
  'system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
Chart.defaults.font.size = 12;
Chart.defaults.color = '#6e7079';
Chart.defaults.borderColor = '#e8ecf3';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 14;
Chart.defaults.plugins.legend.labels.boxHeight = 8;
Chart.defaults.plugins.tooltip.backgroundColor = 'rgba(255, 255, 255, 0.96)';
Chart.defaults.plugins.tooltip.titleColor = '#333639';
Chart.defaults.plugins.tooltip.bodyColor = '#333639';
Chart.defaults.plugins.tooltip.borderColor = '#e0e0e6';
Chart.defaults.plugins.tooltip.borderWidth = 1;
Chart.defaults.plugins.tooltip.padding = 8;
Chart.defaults.plugins.tooltip.boxPadding = 4;

/** About the width of a time label with room around it. */
const TIME_TICK_PX = 75;

/**
 * An x axis of epoch milliseconds labelled with round local times in `locale` (utils/time-ticks.ts):
 * a linear scale, so no date library comes with the charts. Without `min` and `max` it spans the data.
 */
export function timeAxis(locale: string, range?: { min: number; max: number }) {
  return {
    type: 'linear' as const,
    bounds: 'data' as const,
    ...range,
    afterBuildTicks: (scale: Scale): void => {
      scale.ticks = timeTicks(scale.min, scale.max, scale.width / TIME_TICK_PX);
    },
    ticks: {
      maxRotation: 0,
      callback: (value: number | string, _index: number, ticks: Tick[]): string => {
        // A lone tick reads as a time of day.
        const step = ticks.length > 1 ? ticks[1]!.value - ticks[0]!.value : 60_000;
        return timeTickLabel(Number(value), step, locale);
      },
    },
    grid: { display: false },
  };
}

/**
 * Draws `config` on `canvas` once it is in the page, redraws it when the config changes, and frees the
 * chart with the component. Chart.js resizes it with its container, which must have a height.
 */
export function useChart<TType extends ChartType, TData = DefaultDataPoint<TType>>(
  canvas: Readonly<Ref<HTMLCanvasElement | null>>,
  config: Readonly<Ref<ChartConfiguration<TType, TData>>>,
): void {
  // Not reactive: Chart.js keeps its own state on the objects it is given.
  let chart: Chart<TType, TData> | null = null;
  let drawn: TType | null = null;
  const destroy = (): void => {
    chart?.destroy();
    chart = null;
  };
  watch(
    [canvas, config],
    ([element, next]) => {
      if (!element) return destroy();
      if (chart && chart.canvas === element && drawn === next.type) {
        chart.data = next.data;
        if (next.options) chart.options = next.options;
        chart.update();
        return;
      }
      destroy();
      chart = new Chart(element, next);
      drawn = next.type;
    },
    { flush: 'post', immediate: true },
  );
  onBeforeUnmount(destroy);
}
