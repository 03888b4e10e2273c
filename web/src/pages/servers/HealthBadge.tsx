import { DotBadge } from "./list/DotBadge";

const UNKNOWN = { color: "gray", label: "Unknown" };
const HEALTH: Record<string, { color: string; label: string }> = {
  healthy: { color: "green", label: "Healthy" },
  degraded: { color: "orange", label: "Degraded" },
  unhealthy: { color: "red", label: "Unhealthy" },
  unknown: UNKNOWN,
};

/** A server's health as a coloured dot and its name, so that it reads without the colour too. */
export function HealthBadge({ status }: { status: string | null | undefined }) {
  const key = status && status in HEALTH ? status : "unknown";
  const health = HEALTH[key] ?? UNKNOWN;
  return (
    <DotBadge color={health.color} data-health={key}>
      {health.label}
    </DotBadge>
  );
}
