// Loaded on demand with the health screen: @mantine/charts (and recharts) are big.
import "@mantine/charts/styles.css";

import { LineChart } from "@mantine/charts";

import type { HealthHistory } from "./data";

function label(start: string, bucket: HealthHistory["bucket"]): string {
  const d = new Date(start);
  return bucket === "day"
    ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
    : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

/** Response-time percentiles per hour or day of the range. */
export default function LatencyChart({ history }: { history: HealthHistory }) {
  const data = history.buckets.map((b) => ({
    at: label(b.start, history.bucket),
    p50: b.p50_ms,
    p95: b.p95_ms,
    p99: b.p99_ms,
  }));
  return (
    <LineChart
      h={260}
      data={data}
      dataKey="at"
      unit=" ms"
      withLegend
      connectNulls={false}
      xAxisProps={{ padding: { left: 12, right: 12 } }}
      valueFormatter={(v) => v.toFixed(1)}
      series={[
        { name: "p50", color: "teal.6" },
        { name: "p95", color: "indigo.6" },
        { name: "p99", color: "orange.6" },
      ]}
      data-testid="latency-chart"
    />
  );
}
