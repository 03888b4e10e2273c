import { Alert, Anchor, Badge, Button, Card, Code, Group, List, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";

import { ProblemError } from "../../../api/problem";
import { useSession } from "../../../auth/session";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { formatDate, fromNow } from "../../../components/time";
import { DiscoveryPanel } from "./DiscoveryPanel";
import { RawJson, SchemaTable } from "./SchemaView";
import { describeCounts, KIND_LABELS, useCapabilities, type CapabilityItem, type Capabilities } from "./data";

const KINDS: CapabilityItem["kind"][] = ["tool", "resource", "resource_template", "prompt"];
const PAGE = 50;

/** Story 2.2: discovery, and the capabilities of the latest snapshot with their schemas. */
export function CapabilitiesTab({
  serverId,
  canWrite,
  canReadCapabilities,
}: {
  serverId: string;
  canWrite: boolean;
  canReadCapabilities: boolean;
}) {
  return (
    <Stack gap="md">
      <DiscoveryPanel serverId={serverId} canWrite={canWrite} />
      {canReadCapabilities ? <CapabilityList serverId={serverId} /> : null}
    </Stack>
  );
}

function CapabilityList({ serverId }: { serverId: string }) {
  const query = useCapabilities(serverId);
  if (query.isError && query.error instanceof ProblemError && query.error.kind === "snapshot-not-found") {
    return <EmptyState>No capabilities yet: discover this server's capabilities to see its tools.</EmptyState>;
  }
  return (
    <QueryState query={query} label="Loading capabilities">
      {(data) => <Loaded data={data} serverId={serverId} />}
    </QueryState>
  );
}

function Loaded({ data, serverId }: { data: Capabilities; serverId: string }) {
  const [filter, setFilter] = useState("");
  const { snapshot } = data;
  const needle = filter.trim().toLowerCase();
  const matches = data.items.filter(
    (i) =>
      !needle ||
      i.name.toLowerCase().includes(needle) ||
      (i.title ?? "").toLowerCase().includes(needle) ||
      (i.description ?? "").toLowerCase().includes(needle),
  );
  const info = snapshot.server_info as { name?: unknown; version?: unknown };
  return (
    <Stack gap="md">
      <Card withBorder padding="md" aria-labelledby="snapshot-title">
        <Title order={2} size="h4" id="snapshot-title">
          Snapshot version {snapshot.version}
        </Title>
        <Text size="sm" c="dimmed" data-testid="snapshot-summary">
          {describeCounts(snapshot.counts)}. Recorded {formatDate(snapshot.created_at)}, last confirmed{" "}
          {fromNow(snapshot.last_confirmed_at)}.
          {typeof info.name === "string" ? ` Server ${info.name}${typeof info.version === "string" ? ` ${info.version}` : ""}.` : ""}
          {snapshot.protocol_version ? ` MCP ${snapshot.protocol_version}.` : ""}
        </Text>
        {snapshot.invalid_items.length ? (
          <Alert color="yellow" variant="light" mt="sm" title="Items the server listed but SprintConnect refused">
            <List size="sm">
              {snapshot.invalid_items.map((i) => (
                <List.Item key={`${i.kind}:${i.name}`}>
                  <Code>{i.name}</Code> ({i.kind}): {i.reason}
                </List.Item>
              ))}
            </List>
          </Alert>
        ) : null}
        {Object.keys(snapshot.truncation).filter((k) => k !== "invalid_items").length ? (
          <Alert color="yellow" variant="light" mt="sm" title="Some of the listing was not kept">
            <Code block>{JSON.stringify(snapshot.truncation, null, 2)}</Code>
          </Alert>
        ) : null}
      </Card>
      {data.items.length ? (
        <TextInput
          label="Filter capabilities"
          placeholder="Name or description"
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value)}
          maw={420}
        />
      ) : (
        <EmptyState>The server listed no tools, resources or prompts.</EmptyState>
      )}
      {KINDS.map((kind) => {
        const items = matches.filter((i) => i.kind === kind);
        const total = data.items.filter((i) => i.kind === kind).length;
        if (!total) return null;
        return <KindSection key={kind} kind={kind} items={items} total={total} serverId={serverId} />;
      })}
      <Stack gap={2}>
        <Text size="sm" c="dimmed">
          What the server declared when SprintConnect connected (its MCP capabilities):
        </Text>
        <RawJson value={data.capabilities} label="the declared server capabilities" />
      </Stack>
    </Stack>
  );
}

function KindSection({
  kind,
  items,
  total,
  serverId,
}: {
  kind: CapabilityItem["kind"];
  items: CapabilityItem[];
  total: number;
  serverId: string;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? items : items.slice(0, PAGE);
  const id = `kind-${kind}`;
  return (
    <section aria-labelledby={id}>
      <Group gap="xs" mb="xs">
        <Title order={2} size="h3" id={id}>
          {KIND_LABELS[kind]}
        </Title>
        <Badge variant="default">{items.length === total ? total : `${items.length} of ${total}`}</Badge>
      </Group>
      <Stack gap="sm">
        {shown.map((item) => (
          <ItemCard key={`${item.kind}:${item.name}`} item={item} serverId={serverId} />
        ))}
        {!shown.length ? <Text size="sm" c="dimmed">None match the filter.</Text> : null}
        {items.length > shown.length ? (
          <Button variant="light" onClick={() => setAll(true)} w="fit-content">
            Show all {items.length} {KIND_LABELS[kind].toLowerCase()}
          </Button>
        ) : null}
      </Stack>
    </section>
  );
}

/** Where the playground opens with this capability chosen; none for a resource template. */
function playgroundLink(serverId: string, item: CapabilityItem): string | null {
  if (item.kind === "resource_template") return null;
  const query = new URLSearchParams({ server: serverId, [item.kind]: item.name });
  return `/playground?${query.toString()}`;
}

function ItemCard({ item, serverId }: { item: CapabilityItem; serverId: string }) {
  const d = item.definition as Record<string, unknown>;
  const { can } = useSession();
  const tryIt = can("tools:invoke") ? playgroundLink(serverId, item) : null;
  return (
    <Card withBorder padding="sm" data-testid="capability" data-name={item.name}>
      <Stack gap={6}>
        <Group gap="xs" wrap="wrap">
          <Title order={3} size="h5" style={{ wordBreak: "break-all" }}>
            <Code fz="sm">{item.name}</Code>
          </Title>
          {item.title ? <Text size="sm" fw={500}>{item.title}</Text> : null}
          {item.kind !== "tool" && typeof d.name === "string" && d.name !== item.name && d.name !== item.title ? (
            <Text size="sm" fw={500}>
              {d.name}
            </Text>
          ) : null}
          {typeof d.mimeType === "string" ? <Badge variant="default" size="sm">{d.mimeType}</Badge> : null}
          {tryIt ? (
            <Anchor component={Link} to={tryIt} size="sm" ml="auto" aria-label={`Try it: ${item.name} in the playground`}>
              Try it
            </Anchor>
          ) : null}
        </Group>
        {item.description ? (
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {item.description}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            No description.
          </Text>
        )}
        {item.kind === "tool" ? (
          <>
            <SchemaTable schema={d.inputSchema} caption="Input" />
            {d.outputSchema ? <SchemaTable schema={d.outputSchema} caption="Output" /> : null}
          </>
        ) : null}
        {item.kind === "prompt" ? <PromptArguments args={d.arguments} /> : null}
        {item.kind === "resource_template" && typeof d.uriTemplate === "string" ? (
          <Text size="sm">
            URI template: <Code>{d.uriTemplate}</Code>
          </Text>
        ) : null}
        <RawJson value={item.definition} label={item.name} />
      </Stack>
    </Card>
  );
}

function PromptArguments({ args }: { args: unknown }) {
  const list = Array.isArray(args) ? (args as { name?: string; description?: string; required?: boolean }[]) : [];
  if (!list.length) {
    return (
      <Text size="sm" c="dimmed">
        Arguments: none.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={420}>
      <Table withTableBorder striped verticalSpacing={4} fz="sm">
        <Table.Caption style={{ captionSide: "top", textAlign: "left" }}>Arguments</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Argument</Table.Th>
            <Table.Th>Required</Table.Th>
            <Table.Th>Description</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.map((a, index) => (
            <Table.Tr key={a.name ?? index}>
              <Table.Td>
                <Code>{a.name ?? "?"}</Code>
              </Table.Td>
              <Table.Td>{a.required ? "required" : "optional"}</Table.Td>
              <Table.Td>{a.description ?? ""}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
