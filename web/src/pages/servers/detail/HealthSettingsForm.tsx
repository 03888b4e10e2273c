import { Button, Card, Group, NativeSelect, NumberInput, SimpleGrid, Stack, Switch, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../../api/client";
import { ProblemError } from "../../../api/problem";
import { ProblemAlert } from "../../../components/ProblemAlert";
import { CLOSE, keys, type HealthDetails } from "./data";

const CHECK_TYPES = [
  { value: "ping", label: "Ping (an MCP ping)" },
  { value: "capability", label: "Capability test (list tools, compare with the snapshot)" },
  { value: "full", label: "Full (capability test and a discovery)" },
];

/** "every 5 minutes" from seconds. */
export function every(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "every hour" : `every ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "every minute" : `every ${seconds / 60} minutes`;
  return `every ${seconds} seconds`;
}

function asNumber(value: string | number): number | null {
  if (value === "" || value === null) return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Story 2.3: how often and how a server is checked, and when it escalates to degraded. */
export function HealthSettingsForm({ serverId, health }: { serverId: string; health: HealthDetails }) {
  const client = useQueryClient();
  const t = health.thresholds;
  const [interval, setInterval] = useState<string | number>(health.interval_seconds);
  const [checkType, setCheckType] = useState<string>(health.check_type);
  const [enabled, setEnabled] = useState(health.enabled);
  const [failures, setFailures] = useState<string | number>(
    t.overridden.includes("failure_threshold") ? t.failure_threshold : "",
  );
  const [degradedAfter, setDegradedAfter] = useState<string | number>(
    t.overridden.includes("degraded_after_seconds") ? t.degraded_after_seconds : "",
  );
  const [local, setLocal] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/v1/servers/{server_id}", {
          params: { path: { server_id: serverId } },
          body: {
            health: {
              interval_seconds: asNumber(interval),
              check_type: checkType as HealthDetails["check_type"],
              enabled,
              failure_threshold: asNumber(failures),
              degraded_after_seconds: asNumber(degradedAfter),
            },
          },
        }),
      ),
    onSuccess: (server) => {
      client.setQueryData(keys.server(serverId), server);
      void client.invalidateQueries({ queryKey: keys.health(serverId) });
      notifications.show({
        closeButtonProps: CLOSE,
        color: "green",
        title: "Health checks saved",
        message: server.health.enabled
          ? `${server.name} is checked ${every(server.health.interval_seconds)}.`
          : `Scheduled checks of ${server.name} are paused.`,
      });
    },
  });
  const problem = save.error instanceof ProblemError ? save.error : null;
  const seconds = asNumber(interval);
  const intervalError =
    local ?? problem?.fieldMessage("interval_seconds") ?? problem?.fieldMessage("health_check_interval_seconds");

  return (
    <Card withBorder padding="md" aria-labelledby="health-settings-title">
      <Title order={2} size="h4" id="health-settings-title" mb="xs">
        Check settings
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (seconds === null || seconds < t.min_interval_seconds || seconds > 86400) {
            setLocal(`Between ${t.min_interval_seconds} and 86400 seconds (your organization's minimum is ${t.min_interval_seconds}).`);
            return;
          }
          setLocal(null);
          save.mutate();
        }}
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NumberInput
              label="Check interval (seconds)"
              description={seconds ? `Checked ${every(seconds)}; at least ${t.min_interval_seconds} s.` : undefined}
              value={interval}
              onChange={setInterval}
              min={1}
              max={86400}
              allowDecimal={false}
              required
              error={intervalError}
            />
            <NativeSelect
              label="Check type"
              data={CHECK_TYPES}
              value={checkType}
              onChange={(e) => setCheckType(e.currentTarget.value)}
            />
            <NumberInput
              label="Failures before degraded"
              description={`Empty: the organization's threshold${t.overridden.includes("failure_threshold") ? "" : ` (${t.failure_threshold})`}.`}
              placeholder={String(t.failure_threshold)}
              value={failures}
              onChange={setFailures}
              min={1}
              max={1000}
              allowDecimal={false}
              error={problem?.fieldMessage("failure_threshold")}
            />
            <NumberInput
              label="Seconds unhealthy before degraded"
              description={`Empty: the organization's${t.overridden.includes("degraded_after_seconds") ? "" : ` (${t.degraded_after_seconds} s)`}.`}
              placeholder={String(t.degraded_after_seconds)}
              value={degradedAfter}
              onChange={setDegradedAfter}
              min={1}
              max={2592000}
              allowDecimal={false}
              error={problem?.fieldMessage("degraded_after_seconds")}
            />
          </SimpleGrid>
          <Switch
            label="Scheduled checks on"
            checked={enabled}
            onChange={(e) => setEnabled(e.currentTarget.checked)}
          />
          {save.isError ? <ProblemAlert error={save.error} title="The settings were not saved" /> : null}
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save check settings
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
