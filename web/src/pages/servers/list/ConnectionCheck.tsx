import { Alert, Button, Group, Stack, Text } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";

import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";
import { ProblemAlert } from "../../../components/ProblemAlert";
import { REASON_LABELS } from "./labels";
import { outcomeStyles } from "./ui";

export type ConnectionCheckResult = components["schemas"]["ConnectionCheck"];

/** "Check connection": connect to the server, run `initialize`, and say what came of it. */
export function ConnectionCheck({ serverId }: { serverId: string }) {
  const check = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/servers/{server_id}/connection-check", {
          params: { path: { server_id: serverId } },
        }),
      ),
  });
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="light" onClick={() => check.mutate()} loading={check.isPending}>
          {check.data ? "Check again" : "Check connection"}
        </Button>
      </Group>
      <div aria-live="polite">
        {check.isError ? <ProblemAlert error={check.error} /> : null}
        {check.data && !check.isPending ? <CheckResult result={check.data} /> : null}
      </div>
    </Stack>
  );
}

export function CheckResult({ result }: { result: ConnectionCheckResult }) {
  if (result.ok) {
    const who = [result.server_name, result.server_version].filter(Boolean).join(" ");
    return (
      <Alert
        variant="default"
        styles={outcomeStyles("green")}
        title="Connected"
        data-testid="connection-check-result"
      >
        <Text size="sm">
          {who ? `${who} answered` : "The server answered"} in {Math.round(result.latency_ms)} ms
          {result.protocol_version ? ` (MCP protocol ${result.protocol_version})` : ""}.
        </Text>
      </Alert>
    );
  }
  const reason = result.reason ?? "unknown";
  return (
    <Alert
      variant="default"
      styles={outcomeStyles("red")}
      title={`Connection failed: ${REASON_LABELS[reason] ?? reason}`}
      data-testid="connection-check-result"
    >
      <Text size="sm">{result.error ?? "The check failed."}</Text>
      <Text size="xs" c="dimmed" mt={4}>
        Reason: {reason}
      </Text>
    </Alert>
  );
}
