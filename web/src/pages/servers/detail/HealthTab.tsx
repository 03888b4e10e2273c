import {
  Alert,
  Box,
  Button,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useState, type ReactNode } from "react";

import { api, unwrap } from "../../../api/client";
import { ProblemAlert } from "../../../components/ProblemAlert";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { formatDate, fromNow } from "../../../components/time";
import { HealthBadge } from "../HealthBadge";
import { CLOSE, keys, type CheckResult, type HealthDetails, type HealthHistory } from "./data";
import { every, HealthSettingsForm } from "./HealthSettingsForm";

const LatencyChart = lazy(() => import("./LatencyChart"));

const RANGES = [
  { value: "24h", label: "24 hours", hours: 24 },
  { value: "7d", label: "7 days", hours: 24 * 7 },
  { value: "30d", label: "30 days", hours: 24 * 30 },
];

const CHECK_TYPE_LABELS: Record<string, string> = {
  ping: "ping",
  capability: "capability test",
  full: "full (capabilities and discovery)",
};

/** Story 2.3: the server's health now, Check now, its check settings, and its history. */
export default function HealthTab({
  serverId,
  canCheck,
  canConfigure,
}: {
  serverId: string;
  canCheck: boolean;
  canConfigure: boolean;
}) {
  const health = useQuery({
    queryKey: keys.health(serverId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/servers/{server_id}/health", { params: { path: { server_id: serverId } } })),
  });
  return (
    <QueryState query={health} label="Loading health">
      {(details) => (
        <Stack gap="md">
          <DetailsPanel serverId={serverId} details={details} canCheck={canCheck} />
          {canConfigure ? <HealthSettingsForm key={settingsKey(details)} serverId={serverId} health={details} /> : null}
          <HistoryPanel serverId={serverId} />
        </Stack>
      )}
    </QueryState>
  );
}

function settingsKey(d: HealthDetails): string {
  const t = d.thresholds;
  return [d.interval_seconds, d.check_type, d.enabled, t.failure_threshold, t.degraded_after_seconds, t.overridden.join()].join(":");
}

function DetailsPanel({ serverId, details, canCheck }: { serverId: string; details: HealthDetails; canCheck: boolean }) {
  const client = useQueryClient();
  const check = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/servers/{server_id}/health/checks", {
          params: { path: { server_id: serverId }, query: { wait: true } },
        }),
      ),
    onSuccess: (result) => {
      void client.invalidateQueries({ queryKey: keys.server(serverId) });
      if ("outcome" in result) {
        const r = result as CheckResult;
        notifications.show({
        closeButtonProps: CLOSE,
          color: r.outcome === "healthy" ? "green" : "red",
          title: r.outcome === "healthy" ? "The server answered" : "The check failed",
          message: r.outcome === "healthy" ? `In ${r.response_ms.toFixed(1)} ms.` : (r.message ?? r.error_class ?? ""),
        });
      }
    },
  });
  return (
    <Card withBorder padding="md" aria-labelledby="health-title">
      <Group justify="space-between" align="flex-start" wrap="wrap" mb="sm">
        <Group gap="sm">
          <Title order={2} size="h4" id="health-title">
            Health
          </Title>
          <span data-testid="health-status">
            <HealthBadge status={details.status} />
          </span>
        </Group>
        {canCheck ? (
          <Button onClick={() => check.mutate()} loading={check.isPending}>
            Check now
          </Button>
        ) : null}
      </Group>
      {check.isError ? <ProblemAlert error={check.error} title="The check could not run" /> : null}
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="sm" verticalSpacing="xs">
        <Fact label="Last check" testId="health-last-check">
          {details.last_check_at ? `${fromNow(details.last_check_at)} (${formatDate(details.last_check_at)})` : "Not checked yet"}
        </Fact>
        <Fact label="Response time" testId="health-response">
          {details.response_ms === null ? "—" : `${details.response_ms.toFixed(1)} ms`}
        </Fact>
        <Fact label="Status since">{details.status_changed_at ? formatDate(details.status_changed_at) : "—"}</Fact>
        <Fact label="Schedule">
          {details.enabled
            ? `${CHECK_TYPE_LABELS[details.check_type] ?? details.check_type}, ${every(details.interval_seconds)}`
            : "Paused"}
        </Fact>
        <Fact label="Next check">{details.next_check_at ? fromNow(details.next_check_at) : "—"}</Fact>
        <Fact label="Failure streak">
          {`${details.failure_streak} (degraded after ${details.thresholds.failure_threshold} or ${details.thresholds.degraded_after_seconds} s)`}
        </Fact>
      </SimpleGrid>
      {details.error || details.error_class ? (
        <Alert color="red" variant="light" mt="sm" title={`Last error: ${details.error_class ?? "error"}`} data-testid="health-error">
          {details.error ? <Text size="sm">{details.error}</Text> : null}
          {details.guidance ? (
            <Text size="sm" mt={4}>
              <Text span fw={600} size="sm">
                What to do:{" "}
              </Text>
              {details.guidance}
            </Text>
          ) : null}
          {details.unhealthy_since ? (
            <Text size="xs" c="dimmed" mt={4}>
              Unhealthy since {formatDate(details.unhealthy_since)}
            </Text>
          ) : null}
        </Alert>
      ) : null}
    </Card>
  );
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" data-testid={testId}>
        {children}
      </Text>
    </div>
  );
}

function HistoryPanel({ serverId }: { serverId: string }) {
  const [range, setRange] = useState("24h");
  const hours = RANGES.find((r) => r.value === range)?.hours ?? 24;
  const history = useQuery({
    queryKey: keys.history(serverId, range),
    queryFn: () => {
      const to = new Date();
      const from = new Date(to.getTime() - hours * 3600_000);
      return unwrap(
        api.GET("/api/v1/servers/{server_id}/health/history", {
          params: {
            path: { server_id: serverId },
            query: { from: from.toISOString(), to: to.toISOString(), limit: 100 },
          },
        }),
      );
    },
  });
  return (
    <Card withBorder padding="md" aria-labelledby="history-title">
      <Group justify="space-between" wrap="wrap" mb="sm">
        <Title order={2} size="h4" id="history-title">
          History
        </Title>
        <SegmentedControl
          aria-label="Time range"
          value={range}
          onChange={setRange}
          data={RANGES.map(({ value, label }) => ({ value, label }))}
          size="xs"
        />
      </Group>
      <QueryState query={history} label="Loading history">
        {(h) => <History history={h} />}
      </QueryState>
    </Card>
  );
}

function History({ history }: { history: HealthHistory }) {
  const r = history.response_ms;
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
        <Fact label="Uptime" testId="health-uptime">
          {history.uptime_percent === null ? "No checks" : `${history.uptime_percent.toFixed(2)} %`}
        </Fact>
        <Fact label="Checks">{`${history.checks} (${history.failures} failed)`}</Fact>
        <Fact label="p50 / p95 / p99" testId="health-percentiles">
          {r ? `${r.p50.toFixed(1)} / ${r.p95.toFixed(1)} / ${r.p99.toFixed(1)} ms` : "—"}
        </Fact>
        <Fact label="Mean">{r ? `${r.mean.toFixed(1)} ms` : "—"}</Fact>
      </SimpleGrid>
      <StatusStrip history={history} />
      <section aria-labelledby="latency-title">
        <Title order={3} size="h5" id="latency-title" mb="xs">
          Response time
        </Title>
        {history.checks ? (
          <Suspense fallback={<Skeleton h={260} />}>
            <LatencyChart history={history} />
          </Suspense>
        ) : (
          <EmptyState>No checks ran in this range.</EmptyState>
        )}
      </section>
      <Timeline history={history} />
    </Stack>
  );
}

function stripColor(uptime: number | null): string {
  if (uptime === null) return "var(--mantine-color-default-border)";
  if (uptime >= 100) return "var(--mantine-color-green-6)";
  if (uptime >= 90) return "var(--mantine-color-yellow-5)";
  return "var(--mantine-color-red-6)";
}

/** One cell an hour (or day): green all checks passed, yellow some failed, red most, grey none ran. */
function StatusStrip({ history }: { history: HealthHistory }) {
  const unit = history.bucket === "day" ? "day" : "hour";
  const withChecks = history.buckets.filter((b) => b.checks > 0);
  const failing = withChecks.filter((b) => b.failures > 0).length;
  return (
    <section aria-labelledby="strip-title">
      <Title order={3} size="h5" id="strip-title" mb="xs">
        Uptime by {unit}
      </Title>
      <Box
        role="img"
        aria-label={`${withChecks.length} ${unit}s with checks, ${failing} with failures`}
        data-testid="status-strip"
        style={{ display: "flex", gap: 2, height: 24 }}
      >
        {history.buckets.map((b) => (
          <Box
            key={b.start}
            title={`${formatDate(b.start)}: ${b.checks ? `${b.uptime_percent}% of ${b.checks} checks` : "no checks"}`}
            style={{ flex: 1, minWidth: 2, borderRadius: 2, background: stripColor(b.uptime_percent) }}
          />
        ))}
      </Box>
      <Group justify="space-between" mt={4}>
        <Text size="xs" c="dimmed">
          {formatDate(history.from)}
        </Text>
        <Text size="xs" c="dimmed">
          {formatDate(history.to)}
        </Text>
      </Group>
    </section>
  );
}

function Timeline({ history }: { history: HealthHistory }) {
  return (
    <section aria-labelledby="timeline-title">
      <Title order={3} size="h5" id="timeline-title" mb="xs">
        Status changes
      </Title>
      <Table.ScrollContainer minWidth={480}>
        <Table striped verticalSpacing={4} fz="sm" data-testid="health-timeline">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>To</Table.Th>
              <Table.Th>Reason</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <Table.Tr>
              <Table.Td>{formatDate(history.from)} (start of range)</Table.Td>
              <Table.Td>—</Table.Td>
              <Table.Td>
                <HealthBadge status={history.status_at_from} />
              </Table.Td>
              <Table.Td>status in force</Table.Td>
            </Table.Tr>
            {history.timeline.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{formatDate(t.at)}</Table.Td>
                <Table.Td>
                  <HealthBadge status={t.from_status} />
                </Table.Td>
                <Table.Td>
                  <HealthBadge status={t.to_status} />
                </Table.Td>
                <Table.Td>{t.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {history.next_cursor ? (
        <Text size="xs" c="dimmed" mt={4}>
          Showing the first {history.timeline.length} changes; pick a shorter range to see the rest.
        </Text>
      ) : null}
    </section>
  );
}
