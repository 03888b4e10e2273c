import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";

import { ProblemAlert } from "../../components/ProblemAlert";
import { formatDate, fromNow } from "../../components/time";
import { ms, percent, useStats } from "./hooks";

/** How deliveries go: success rates, the receiver's answer times, failures by kind. */
export function StatsCard({ id }: { id: string }) {
  const stats = useStats(id);
  return (
    <Card withBorder padding="md" aria-labelledby="stats-title">
      <Title order={2} size="h4" id="stats-title" mb="sm">
        Delivery health
      </Title>
      {stats.isPending ? (
        <Text size="sm" role="status">
          Loading statistics…
        </Text>
      ) : stats.isError ? (
        <ProblemAlert error={stats.error} />
      ) : (
        <Stack gap="sm" data-testid="webhook-stats">
          <SimpleGrid cols={{ base: 2, xs: 4 }} spacing="xs">
            <Figure label="Success, 24 h" value={percent(stats.data.success_rate_24h)} testId="success-24h" />
            <Figure label="Success, 7 days" value={percent(stats.data.success_rate_7d)} />
            <Figure label="Median answer" value={ms(stats.data.latency_ms_p50_24h)} testId="latency-p50" />
            <Figure label="95th percentile" value={ms(stats.data.latency_ms_p95_24h)} />
          </SimpleGrid>
          <Text size="sm">
            {stats.data.attempts_24h} {stats.data.attempts_24h === 1 ? "attempt" : "attempts"} in 24
            hours, {stats.data.attempts_7d} in 7 days; {stats.data.pending} pending.
          </Text>
          {/* A div: the badge inside is a div too, which a paragraph may not hold. */}
          <Text size="sm" component="div">
            Last delivery:{" "}
            {stats.data.last_delivery ? (
              <>
                <Badge
                  size="sm"
                  variant="dot"
                  color={stats.data.last_delivery.succeeded ? "green" : "red"}
                >
                  {stats.data.last_delivery.status_code ??
                    (stats.data.last_delivery.succeeded ? "ok" : "failed")}
                </Badge>{" "}
                <span title={formatDate(stats.data.last_delivery.at)}>
                  {fromNow(stats.data.last_delivery.at)}
                </span>
              </>
            ) : (
              "none yet"
            )}
          </Text>
          {Object.keys(stats.data.errors_by_class_7d).length ? (
            <Group gap={4}>
              <Text size="sm">Failures in 7 days:</Text>
              {Object.entries(stats.data.errors_by_class_7d).map(([kind, n]) => (
                <Badge key={kind} size="sm" color="red" variant="dot" tt="none">
                  {kind}: {n}
                </Badge>
              ))}
            </Group>
          ) : null}
        </Stack>
      )}
    </Card>
  );
}

function Figure({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="lg" fw={600} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}
