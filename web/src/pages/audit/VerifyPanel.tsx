import { Alert, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { ProblemAlert } from "../../components/ProblemAlert";
import { formatDate } from "../../components/time";

type Report = components["schemas"]["VerifyReport"];

/** "Verify log": recompute the whole log and compare it with the signed checkpoint. */
export function VerifyPanel() {
  const latest = useQuery({
    queryKey: ["audit", "checkpoint"],
    queryFn: () => unwrap(api.GET("/api/v1/audit/checkpoints/latest")),
    retry: false,
  });
  const verify = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/audit/verify")),
  });

  return (
    <Paper withBorder p="sm" aria-labelledby="verify-title">
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <div>
            <Text fw={600} id="verify-title">
              Integrity
            </Text>
            <Text size="sm" c="dimmed" data-testid="latest-checkpoint">
              {latest.data
                ? `Last signed checkpoint: ${latest.data.tree_size} entries, ${formatDate(latest.data.issued_at)}.`
                : latest.isPending
                  ? "Reading the latest checkpoint…"
                  : "No signed checkpoint yet."}
            </Text>
          </div>
          <Button onClick={() => verify.mutate()} loading={verify.isPending}>
            Verify log
          </Button>
        </Group>
        {verify.isError ? <ProblemAlert error={verify.error} title="The log was not verified" /> : null}
        {verify.data ? <VerifyResult report={verify.data} /> : null}
      </Stack>
    </Paper>
  );
}

export function VerifyResult({ report }: { report: Report }) {
  const intact = report.status === "intact";
  const checkpoint = report.checkpoint;
  return (
    <Alert
      color={intact ? "green" : "red"}
      variant="default"
      icon={<span aria-hidden>{intact ? "✓" : "✕"}</span>}
      title={intact ? "The log is intact" : "The log was tampered with"}
      data-testid="verify-result"
      role="status"
    >
      <Stack gap={4}>
        <Text size="sm">
          {report.tree_size} {report.tree_size === 1 ? "entry" : "entries"} checked
          {report.pending ? `; ${report.pending} written since, not sequenced yet (not checked)` : ""}.
        </Text>
        {checkpoint ? (
          <Text size="sm">
            Checkpoint of {checkpoint.tree_size} entries signed {formatDate(checkpoint.issued_at)} by
            key {checkpoint.key_id}: signature{" "}
            {checkpoint.signature_valid ? "valid" : "INVALID"}, root{" "}
            {checkpoint.root_matches ? "matches" : "DOES NOT MATCH"}.
          </Text>
        ) : (
          <Text size="sm">No signed checkpoint to compare with yet.</Text>
        )}
        {report.problem ? (
          <Text size="sm" data-testid="verify-problem">
            First problem: entry {report.problem.class}
            {report.problem.leaf_index !== null && report.problem.leaf_index !== undefined
              ? ` at leaf ${report.problem.leaf_index}`
              : ""}
            {report.problem.event_id ? ` (entry ${report.problem.event_id})` : ""}:{" "}
            {report.problem.detail}
          </Text>
        ) : null}
        {!intact && report.last_matching_checkpoint ? (
          <Text size="sm">
            The checkpoint of {report.last_matching_checkpoint} entries still matches
            {report.first_mismatching_checkpoint
              ? `; the one of ${report.first_mismatching_checkpoint} no longer does`
              : ""}
            .
          </Text>
        ) : null}
      </Stack>
    </Alert>
  );
}
