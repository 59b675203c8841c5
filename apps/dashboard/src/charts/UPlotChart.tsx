import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export type ChartOptions = Omit<uPlot.Options, 'width'>;

interface UPlotChartProps {
  /** A new object re-creates the chart (memoise it); new `data` only redraws. */
  options: ChartOptions;
  data: uPlot.AlignedData;
  testId?: string;
  label: string;
}

/** A uPlot chart that fills its container's width and follows its resizes. */
export function UPlotChart({ options, data, testId, label }: UPlotChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const latestData = useRef(data);
  latestData.current = data;

  useEffect(() => {
    const element = container.current;
    if (element === null) return undefined;
    const chart = new uPlot(
      { ...options, width: Math.max(200, element.clientWidth) },
      latestData.current,
      element,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: options.height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
  }, [options]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={container} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
