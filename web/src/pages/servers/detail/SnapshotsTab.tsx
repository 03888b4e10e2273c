import { Badge, Button, Card, Code, Group, NativeSelect, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../../api/client";
import { ProblemAlert } from "../../../components/ProblemAlert";
import { QueryState } from "../../../components/QueryState";
import { formatDate, fromNow } from "../../../components/time";
import { brief, jsonChanges } from "./jsonDiff";
import {
  describeCounts,
  KIND_SINGULAR,
  keys,
  useCapabilities,
  useDiscoveries,
  type Discovery,
  type Snapshot,
  type SnapshotDiff,
} from "./data";

/** Story 2.2: the snapshot history, and what changed between any two versions. */
export function SnapshotsTab({ serverId }: { serverId: string }) {
  const query = useInfiniteQuery({
    queryKey: keys.snapshots(serverId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/snapshots", {
          params: { path: { server_id: serverId }, query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const discoveries = useDiscoveries(serverId);
  const [pair, setPair] = useState<[number, number] | null>(null);

  return (
    <QueryState
      query={query}
      label="Loading snapshots"
      isEmpty={(data) => data.pages[0]?.items.length === 0}
      empty="No snapshots yet: a discovery records the first one."
    >
      {(data) => {
        const snapshots = data.pages.flatMap((p) => p.items);
        const latest = snapshots[0]!.version;
        const chosen: [number, number] | null = pair ?? (snapshots.length > 1 ? [snapshots[1]!.version, latest] : null);
        return (
          <Stack gap="md">
            <Card withBorder padding="md" aria-labelledby="history-title">
              <Title order={2} size="h4" id="history-title" mb="xs">
                History
              </Title>
              <Table.ScrollContainer minWidth={760}>
                <Table striped highlightOnHover verticalSpacing="xs" fz="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Version</Table.Th>
                      <Table.Th>Recorded</Table.Th>
                      <Table.Th>Contents</Table.Th>
                      <Table.Th>Changes</Table.Th>
                      <Table.Th>Triggered by</Table.Th>
                      <Table.Th>
                        <VisuallyHidden>Compare</VisuallyHidden>
                      </Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {snapshots.map((s) => (
                      <Table.Tr key={s.version} data-version={s.version}>
                        <Table.Td>
                          <Text size="sm" fw={700} span>
                            v{s.version}
                          </Text>
                          {s.version === latest ? (
                            <Badge variant="default" size="sm" ml={6}>
                              latest
                            </Badge>
                          ) : null}
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDate(s.created_at)}</Text>
                          <Text size="xs" c="dimmed">
                            confirmed {fromNow(s.last_confirmed_at)}
                          </Text>
                        </Table.Td>
                        <Table.Td>{describeCounts(s.counts)}</Table.Td>
                        <Table.Td>{describeChange(s)}</Table.Td>
                        <Table.Td>{trigger(s, discoveries.data?.items)}</Table.Td>
                        <Table.Td>
                          {s.version > 1 && snapshots.some((o) => o.version === s.version - 1) ? (
                            <Button
                              size="compact-xs"
                              variant="light"
                              onClick={() => setPair([s.version - 1, s.version])}
                              aria-label={`Compare with previous: version ${s.version} with ${s.version - 1}`}
                            >
                              Compare with previous
                            </Button>
                          ) : null}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              {query.hasNextPage ? (
                <Button variant="light" mt="sm" onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
                  Load older snapshots
                </Button>
              ) : null}
            </Card>
            {chosen ? (
              <Compare
                serverId={serverId}
                versions={snapshots.map((s) => s.version)}
                pair={chosen}
                onChange={setPair}
              />
            ) : (
              <Text size="sm" c="dimmed">
                Only one version so far: a later discovery that finds changes records the next one to compare with.
              </Text>
            )}
          </Stack>
        );
      }}
    </QueryState>
  );
}

function describeChange(s: Snapshot): string {
  const diff = s.diff as { added?: unknown[]; removed?: unknown[]; modified?: unknown[]; server_changed?: string[] } | null;
  if (!diff) return "First snapshot";
  const parts = [
    diff.added?.length ? `${diff.added.length} added` : "",
    diff.removed?.length ? `${diff.removed.length} removed` : "",
    diff.modified?.length ? `${diff.modified.length} modified` : "",
    diff.server_changed?.length ? `server ${diff.server_changed.join(", ")} changed` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "No changes (refresh)";
}

/** Which discovery recorded the version, in words. */
function trigger(s: Snapshot, discoveries: Discovery[] | undefined): string {
  const found = discoveries?.find(
    (d) => d.snapshot_version === s.version && d.status === "succeeded" && d.outcome !== "unchanged",
  );
  if (!found) return "A discovery";
  if (found.force_refresh) return "Forced refresh";
  if (found.outcome === "first") return "First discovery";
  return "Discovery (changes found)";
}

function Compare({
  serverId,
  versions,
  pair,
  onChange,
}: {
  serverId: string;
  versions: number[];
  pair: [number, number];
  onChange: (pair: [number, number]) => void;
}) {
  const [a, b] = pair;
  const options = versions.map((v) => ({ value: String(v), label: `Version ${v}` }));
  const diff = useQuery({
    queryKey: keys.diff(serverId, a, b),
    enabled: a !== b,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/snapshots/{a}/diff/{b}", {
          params: { path: { server_id: serverId, a, b } },
        }),
      ),
    staleTime: Infinity,
  });
  return (
    <Card withBorder padding="md" aria-labelledby="compare-title">
      <Title order={2} size="h4" id="compare-title" mb="xs">
        Compare versions
      </Title>
      <Group gap="sm" align="flex-end" wrap="wrap" mb="md">
        <NativeSelect label="From" data={options} value={String(a)} onChange={(e) => onChange([Number(e.currentTarget.value), b])} />
        <NativeSelect label="To" data={options} value={String(b)} onChange={(e) => onChange([a, Number(e.currentTarget.value)])} />
      </Group>
      {a === b ? (
        <Text size="sm" c="dimmed">
          Pick two different versions.
        </Text>
      ) : (
        <QueryState query={diff} label="Comparing">
          {(d) => <DiffView serverId={serverId} diff={d} />}
        </QueryState>
      )}
    </Card>
  );
}

function DiffView({ serverId, diff }: { serverId: string; diff: SnapshotDiff }) {
  const nothing = !diff.added.length && !diff.removed.length && !diff.modified.length && !diff.server_changed.length;
  return (
    <Stack gap="md" data-testid="snapshot-diff">
      <Text size="sm">
        From version {diff.from_version} to {diff.to_version}: {diff.added.length} added, {diff.removed.length} removed,{" "}
        {diff.modified.length} modified, {diff.unchanged} unchanged.
        {diff.server_changed.length ? ` The server's ${diff.server_changed.join(", ")} changed.` : ""}
      </Text>
      {nothing ? <Text size="sm" c="dimmed">The two versions list the same capabilities.</Text> : null}
      <DiffGroup title="Added" color="green" items={diff.added} />
      <DiffGroup title="Removed" color="red" items={diff.removed} />
      {diff.modified.length ? (
        <section aria-labelledby="diff-modified">
          <Title order={3} size="h5" id="diff-modified" mb={6}>
            Modified ({diff.modified.length})
          </Title>
          <ModifiedList serverId={serverId} diff={diff} />
        </section>
      ) : null}
    </Stack>
  );
}

function DiffGroup({ title, color, items }: { title: string; color: string; items: { [k: string]: string }[] }) {
  if (!items.length) return null;
  const id = `diff-${title.toLowerCase()}`;
  return (
    <section aria-labelledby={id} data-testid={id}>
      <Title order={3} size="h5" id={id} mb={6}>
        {title} ({items.length})
      </Title>
      <Stack gap={4}>
        {items.map((i) => (
          <Group key={`${i.kind}:${i.name}`} gap="xs" wrap="nowrap">
            <Badge color={color} variant="dot" size="sm" tt="none">
              {KIND_SINGULAR[i.kind ?? ""] ?? i.kind}
            </Badge>
            <Code style={{ wordBreak: "break-all" }}>{i.name}</Code>
          </Group>
        ))}
      </Stack>
    </section>
  );
}

/** Each modified item with its changed fields, before and after (from both versions' items). */
function ModifiedList({ serverId, diff }: { serverId: string; diff: SnapshotDiff }) {
  const before = useCapabilities(serverId, diff.from_version);
  const after = useCapabilities(serverId, diff.to_version);
  const find = (data: typeof before.data, kind: string, name: string) =>
    data?.items.find((i) => i.kind === kind && i.name === name)?.definition as Record<string, unknown> | undefined;
  return (
    <Stack gap="sm" data-testid="diff-modified">
      {before.isError ? <ProblemAlert error={before.error} /> : null}
      {after.isError ? <ProblemAlert error={after.error} /> : null}
      {diff.modified.map((m) => {
        const kind = String(m.kind);
        const name = String(m.name);
        const fields = Array.isArray(m.fields) ? (m.fields as string[]) : [];
        const old = find(before.data, kind, name);
        const now = find(after.data, kind, name);
        return (
          <Card key={`${kind}:${name}`} withBorder padding="sm">
            <Group gap="xs" mb={4}>
              <Badge color="yellow" variant="dot" size="sm" tt="none">
                {KIND_SINGULAR[kind] ?? kind}
              </Badge>
              <Code>{name}</Code>
              <Text size="sm" c="dimmed">
                changed: {fields.join(", ")}
              </Text>
            </Group>
            {old && now ? (
              <Table.ScrollContainer minWidth={560}>
                <Table fz="sm" verticalSpacing={4} withTableBorder>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Field</Table.Th>
                      <Table.Th>Before</Table.Th>
                      <Table.Th>After</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {fields.flatMap((f) =>
                      jsonChanges(old[f], now[f], f).map((c) => (
                        <Table.Tr key={c.path}>
                          <Table.Td>
                            <Code>{c.path}</Code>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm" ff="monospace" style={{ wordBreak: "break-word" }}>
                              {brief(c.before)}
                            </Text>
                          </Table.Td>
                          <Table.Td>
                            <Text size="sm" ff="monospace" style={{ wordBreak: "break-word" }}>
                              {brief(c.after)}
                            </Text>
                          </Table.Td>
                        </Table.Tr>
                      )),
                    )}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            ) : before.isPending || after.isPending ? (
              <Text size="xs" c="dimmed">
                Loading the values…
              </Text>
            ) : null}
          </Card>
        );
      })}
    </Stack>
  );
}
