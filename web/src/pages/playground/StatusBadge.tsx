import { Badge, Box } from "@mantine/core";

const STATUS: Record<string, { label: string; color: string }> = {
  ok: { label: "ok", color: "green" },
  tool_error: { label: "tool error", color: "red" },
  invalid: { label: "invalid arguments", color: "orange" },
  denied: { label: "denied", color: "red" },
  throttled: { label: "rate limited", color: "orange" },
  timeout: { label: "timed out", color: "red" },
  failed: { label: "failed", color: "red" },
  cancelled: { label: "cancelled", color: "gray" },
};

/**
 * A call's status as a coloured dot beside full-contrast text (a light badge's coloured text
 * is under 4.5:1 for green, orange and red), so that it reads without the colour too.
 */
export function StatusBadge({ status, testId = "call-status" }: { status: string; testId?: string }) {
  const known = STATUS[status] ?? { label: status, color: "gray" };
  return (
    <Badge
      variant="default"
      tt="none"
      fw={600}
      data-testid={testId}
      data-status={status}
      style={{ flexShrink: 0 }}
      leftSection={
        <Box
          component="span"
          aria-hidden
          w={8}
          h={8}
          style={{ borderRadius: "50%", background: `var(--mantine-color-${known.color}-filled)` }}
        />
      }
    >
      {known.label}
    </Badge>
  );
}
