import { Alert, Badge, Button, Card, Group, Progress, Stack, Text, Title, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "../../../api/client";
import { ProblemAlert } from "../../../components/ProblemAlert";
import { formatDate, fromNow } from "../../../components/time";
import { ACTIVE, CLOSE, keys, useDiscoveries, type Discovery } from "./data";

const PHASES: Record<string, string> = {
  connecting: "Connecting to the server",
  listing_tools: "Listing tools",
  listing_resources: "Listing resources",
  listing_resource_templates: "Listing resource templates",
  listing_prompts: "Listing prompts",
};

const REASONS: Record<string, string> = {
  dns: "the host name does not resolve",
  connection_refused: "the connection was refused",
  tls: "the TLS handshake failed",
  auth_rejected: "the server refused the credentials",
  protocol_error: "the server did not speak MCP as expected",
  timeout: "the discovery timed out",
  egress_denied: "the egress policy refused the destination",
  job_discarded: "the background job was discarded",
  unknown: "an unexpected error",
};

/** What a finished discovery recorded, in a sentence. */
export function outcomeText(d: Discovery): string {
  const v = d.snapshot_version;
  switch (d.outcome) {
    case "first":
      return `First snapshot recorded (version ${v}).`;
    case "changed":
      return `Changes found: version ${v} recorded.`;
    case "refreshed":
      return `Forced refresh: version ${v} recorded.`;
    case "unchanged":
      return `Nothing changed since version ${v}.`;
    default:
      return "Finished.";
  }
}

/**
 * Story 2.2: start a discovery (or a forced refresh), follow it with its estimated completion,
 * and see how the last one ended, with guidance when it failed. A discovery already running
 * when the page opens (or is reloaded) is followed too.
 */
export function DiscoveryPanel({ serverId, canWrite }: { serverId: string; canWrite: boolean }) {
  const client = useQueryClient();
  const history = useDiscoveries(serverId);
  const latest = history.data?.items[0];
  const [tracked, setTracked] = useState<string | null>(null);
  const followId = tracked ?? (latest && ACTIVE.has(latest.status) ? latest.id : null);

  const followed = useQuery({
    queryKey: keys.discovery(serverId, followId ?? "none"),
    enabled: followId !== null,
    queryFn: () =>
      unwrap(api.GET("/api/v1/discoveries/{discovery_id}", { params: { path: { discovery_id: followId! } } })),
    initialData: latest && latest.id === followId ? latest : undefined,
    refetchInterval: (q) => (q.state.data && ACTIVE.has(q.state.data.status) ? 1000 : false),
  });
  const current: Discovery | undefined = (followId ? followed.data : undefined) ?? latest;
  const running = current !== undefined && ACTIVE.has(current.status);

  // When the followed discovery ends: what it recorded is now the server's latest.
  const previous = useRef<string | undefined>(undefined);
  useEffect(() => {
    const status = current?.status;
    const was = previous.current;
    previous.current = status;
    if (!current || !was || !ACTIVE.has(was) || ACTIVE.has(current.status)) return;
    void client.invalidateQueries({ queryKey: keys.server(serverId) });
    if (current.status === "succeeded") {
      notifications.show({
        closeButtonProps: CLOSE, color: "green", title: "Discovery finished", message: outcomeText(current) });
    } else {
      notifications.show({
        closeButtonProps: CLOSE, color: "red", title: "Discovery failed", message: current.error ?? current.status });
    }
  }, [current, client, serverId]);

  const start = useMutation({
    mutationFn: (force: boolean) =>
      unwrap(
        api.POST("/api/v1/servers/{server_id}/discoveries", {
          params: { path: { server_id: serverId } },
          body: { force_refresh: force },
        }),
      ),
    onSuccess: (discovery) => {
      client.setQueryData(keys.discovery(serverId, discovery.id), discovery);
      previous.current = discovery.status;
      setTracked(discovery.id);
      void client.invalidateQueries({ queryKey: keys.discoveries(serverId) });
    },
  });

  return (
    <Card withBorder padding="md" aria-labelledby="discovery-title">
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
        <Stack gap={2}>
          <Title order={2} size="h4" id="discovery-title">
            Discovery
          </Title>
          <Text size="sm" c="dimmed">
            Connects to the server and records its tools, resources and prompts as a snapshot.
          </Text>
        </Stack>
        {canWrite ? (
          <Group gap="xs">
            <Button
              onClick={() => start.mutate(false)}
              loading={start.isPending && start.variables === false}
              disabled={running || start.isPending}
            >
              Discover capabilities
            </Button>
            <Tooltip label="Clear the cached capabilities and record a new snapshot even if nothing changed" multiline w={260}>
              <Button
                variant="default"
                onClick={() => start.mutate(true)}
                loading={start.isPending && start.variables === true}
                disabled={running || start.isPending}
              >
                Force refresh
              </Button>
            </Tooltip>
          </Group>
        ) : null}
      </Group>
      <Stack gap="sm" mt="sm">
        {start.isError ? <ProblemAlert error={start.error} title="The discovery could not start" /> : null}
        {history.isError ? <ProblemAlert error={history.error} /> : null}
        {current ? (
          running ? (
            <Running discovery={current} />
          ) : (
            <Finished discovery={current} />
          )
        ) : history.isSuccess ? (
          <Text size="sm" c="dimmed">
            No discovery has run for this server yet.
          </Text>
        ) : null}
      </Stack>
    </Card>
  );
}

function Running({ discovery }: { discovery: Discovery }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const started = new Date(discovery.started_at ?? discovery.created_at).getTime();
  const eta = discovery.estimated_completion_at ? new Date(discovery.estimated_completion_at).getTime() : null;
  const fraction = eta && eta > started ? Math.min(0.95, Math.max(0.05, (now - started) / (eta - started))) : 0.5;
  const late = eta !== null && now > eta;
  const label = discovery.status === "queued" ? "Queued" : "In progress";
  return (
    <Stack gap={6} data-testid="discovery-progress" role="status" aria-live="polite">
      <Group gap="xs">
        <Badge color="blue" variant="dot" data-status={discovery.status}>
          {label}
        </Badge>
        <Text size="sm">
          {discovery.status === "queued"
            ? "Waiting for a worker"
            : (PHASES[discovery.phase ?? ""] ?? "Working")}
        </Text>
        {discovery.force_refresh ? (
          <Badge variant="default" size="sm">
            Force refresh
          </Badge>
        ) : null}
      </Group>
      <Progress value={fraction * 100} striped animated aria-label="Discovery progress" />
      <Text size="sm" c="dimmed" data-testid="discovery-eta">
        {eta === null
          ? "Estimating the completion time…"
          : late
            ? `Taking longer than expected (estimated ${formatDate(discovery.estimated_completion_at)}).`
            : `Estimated completion ${fromNow(discovery.estimated_completion_at, now)} (${formatDate(discovery.estimated_completion_at)}).`}
      </Text>
    </Stack>
  );
}

function Finished({ discovery }: { discovery: Discovery }) {
  if (discovery.status === "succeeded") {
    return (
      <Group gap="xs" data-testid="discovery-result">
        <Badge color="green" variant="dot" data-status="succeeded">
          Succeeded
        </Badge>
        <Text size="sm">
          {outcomeText(discovery)} {discovery.finished_at ? `Finished ${fromNow(discovery.finished_at)}.` : ""}
        </Text>
      </Group>
    );
  }
  const reason = discovery.reason ? (REASONS[discovery.reason] ?? discovery.reason) : discovery.status;
  return (
    <Alert
      color="red"
      variant="light"
      data-testid="discovery-result"
      title={discovery.status === "timed_out" ? "The discovery timed out" : `The discovery failed: ${reason}`}
    >
      <Stack gap={4}>
        {discovery.error ? <Text size="sm">{discovery.error}</Text> : null}
        {discovery.guidance ? (
          <Text size="sm">
            <Text span fw={600} size="sm">
              What to do:{" "}
            </Text>
            {discovery.guidance}
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          Discovery {discovery.id}
          {discovery.finished_at ? `, ended ${formatDate(discovery.finished_at)}` : ""}
        </Text>
      </Stack>
    </Alert>
  );
}
