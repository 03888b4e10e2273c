import { Badge, Group, NativeSelect, Stack, Text } from "@mantine/core";
import { useMemo } from "react";

import { ProblemAlert } from "../../components/ProblemAlert";
import { EmptyState } from "../../components/QueryState";
import { DiffView } from "./CedarCode";
import { useVersion } from "./data";
import { diffStats, lineDiff } from "./diff";

/** Two versions side by side as one line diff: what changed from `from` to `to`. */
export function PolicyCompare({
  current,
  from,
  to,
  onChange,
}: {
  current: number;
  from: number;
  to: number;
  onChange: (from: number, to: number) => void;
}) {
  const choices = useMemo(
    () =>
      Array.from({ length: current }, (_, i) => current - i).map((v) => ({
        value: String(v),
        label: v === current ? `v${v} (in force)` : `v${v}`,
      })),
    [current],
  );
  const older = useVersion(from);
  const newer = useVersion(to);
  const lines = useMemo(
    () => (older.data && newer.data ? lineDiff(older.data.text, newer.data.text) : null),
    [older.data, newer.data],
  );

  if (current < 1) return <EmptyState>No policy has been published yet: nothing to compare.</EmptyState>;
  const stats = lines ? diffStats(lines) : null;
  return (
    <Stack gap="sm">
      <Group gap="sm" align="flex-end" wrap="wrap">
        <NativeSelect
          label="From version"
          data={choices}
          value={String(from)}
          onChange={(e) => onChange(Number(e.currentTarget.value), to)}
        />
        <NativeSelect
          label="To version"
          data={choices}
          value={String(to)}
          onChange={(e) => onChange(from, Number(e.currentTarget.value))}
        />
        {stats ? (
          <Group gap={6} pb={6} data-testid="diff-stats">
            <Badge color="green" variant="dot" tt="none">
              +{stats.added} added
            </Badge>
            <Badge color="red" variant="dot" tt="none">
              −{stats.removed} removed
            </Badge>
          </Group>
        ) : null}
      </Group>
      {older.isError || newer.isError ? <ProblemAlert error={older.error ?? newer.error} /> : null}
      {lines ? (
        stats && stats.added + stats.removed === 0 ? (
          <EmptyState>
            Versions {from} and {to} have the same text.
          </EmptyState>
        ) : (
          <DiffView lines={lines} label={`Changes from version ${from} to version ${to}`} />
        )
      ) : older.isPending || newer.isPending ? (
        <Text size="sm" c="dimmed" role="status">
          Loading the versions…
        </Text>
      ) : null}
    </Stack>
  );
}
