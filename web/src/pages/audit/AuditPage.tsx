import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Menu,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from "@mantine/core";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";

import { api, unwrap } from "../../api/client";
import { ProblemError } from "../../api/problem";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { EntryDrawer } from "./EntryDrawer";
import { FilterForm } from "./FilterForm";
import { apiQuery, exportHref, FILTER_NAMES, filtersOf, type Filters } from "./filters";
import { LINK } from "./tones";
import { VerifyPanel } from "./VerifyPanel";
import { LoadMore } from "../../components/LoadMore";

export type AuditEntry = components["schemas"]["AuditEntry"];
type Actor = components["schemas"]["AuditActor"];

const ACTOR_LABEL = "actor_label";

/** Story 6.1: the organization's audit log; filter, search, open an entry, export, verify. */
export default function AuditPage() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const actorLabel = params.get(ACTOR_LABEL);
  const [opened, setOpened] = useState<AuditEntry | null>(null);

  const query = useInfiniteQuery({
    queryKey: ["audit", "events", filters],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/audit/events", {
          params: { query: { ...apiQuery(filters), limit: 50, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  const apply = (next: Filters, label?: string) => {
    const query = new URLSearchParams();
    for (const name of FILTER_NAMES) {
      const value = next[name];
      if (value) query.set(name, value);
    }
    if (label && next.actor_id) query.set(ACTOR_LABEL, label);
    setParams(query);
  };

  const showActor = (actor: Actor) => {
    const id = actor.user_id ?? actor.id;
    if (id) apply({ ...filters, actor_id: id }, actorName(actor));
  };

  const active = Object.keys(filters).length > 0;
  const fieldError = query.error instanceof ProblemError ? query.error : undefined;

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Everything that happened in this organization, newest first. The log is append-only and signed."
        actions={<ExportMenu filters={filters} />}
      />
      <Stack gap="md">
        {can("audit:manage") ? <VerifyPanel /> : <LatestCheckpoint />}
        <FilterForm
          key={params.toString()}
          filters={filters}
          serverError={fieldError}
          onApply={(next) =>
            // The actor's name stays shown while the same actor is filtered.
            apply(next, next.actor_id === filters.actor_id ? (actorLabel ?? undefined) : undefined)
          }
          onClear={() => setParams(new URLSearchParams())}
        />
        {filters.actor_id ? (
          <Group gap="xs">
            <Badge variant="light" size="lg" tt="none" data-testid="actor-filter">
              Activity of {actorLabel ?? filters.actor_id}
            </Badge>
            <Button
              variant="subtle"
              size="xs"
              onClick={() => {
                const { actor_id: _drop, ...rest } = filters;
                apply(rest);
              }}
            >
              Show everyone
            </Button>
          </Group>
        ) : null}
        <QueryState
          query={query}
          label="Loading the audit log"
          isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
          empty={active ? "No entries match these filters." : "Nothing has been recorded yet."}
        >
          {(data) => (
            <Stack gap="sm">
              <EntryTable
                entries={data.pages.flatMap((p) => p.items)}
                onActor={showActor}
                onOpen={setOpened}
              />
              <LoadMore pages={query} />
            </Stack>
          )}
        </QueryState>
      </Stack>
      <EntryDrawer
        entry={opened}
        onClose={() => setOpened(null)}
        onActor={(actor) => {
          setOpened(null);
          showActor(actor);
        }}
      />
    </>
  );
}

export function actorName(actor: Actor): string {
  return actor.display ?? actor.id ?? actor.type;
}

function ExportMenu({ filters }: { filters: Filters }) {
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default">Export</Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>With the filters shown</Menu.Label>
        <Menu.Item component="a" href={exportHref(filters, "csv")} download>
          CSV
        </Menu.Item>
        <Menu.Item component="a" href={exportHref(filters, "ndjson")} download>
          JSON Lines (verifiable)
        </Menu.Item>
        <Menu.Item component="a" href={exportHref(filters, "json")} download>
          JSON
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** For members who may read the log but not verify it: what was last signed. */
function LatestCheckpoint() {
  const query = useQuery({
    queryKey: ["audit", "checkpoint"],
    queryFn: () => unwrap(api.GET("/api/v1/audit/checkpoints/latest")),
    retry: false,
  });
  if (!query.data) return null;
  return (
    <Text size="sm" c="dimmed" data-testid="latest-checkpoint">
      Last signed checkpoint: {query.data.tree_size} entries, {formatDate(query.data.issued_at)}.
    </Text>
  );
}

function EntryTable({
  entries,
  onActor,
  onOpen,
}: {
  entries: AuditEntry[];
  onActor: (actor: Actor) => void;
  onOpen: (entry: AuditEntry) => void;
}) {
  return (
    <Table.ScrollContainer minWidth={860}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="Audit entries">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Actor</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Target</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>
              <VisuallyHidden>Details</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((entry) => (
            <Table.Tr key={entry.id} data-testid="audit-row">
              <Table.Td>
                <Text size="sm" title={fromNow(entry.occurred_at)} style={{ whiteSpace: "nowrap" }}>
                  {formatDate(entry.occurred_at)}
                </Text>
              </Table.Td>
              <Table.Td>
                <ActorCell actor={entry.actor} onActor={onActor} />
              </Table.Td>
              <Table.Td>
                <Code>{entry.action}</Code>
              </Table.Td>
              <Table.Td>
                <TargetCell target={entry.target} />
              </Table.Td>
              <Table.Td>
                <OutcomeBadge outcome={entry.outcome} />
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => onOpen(entry)}
                  aria-label={`Open entry ${entry.action} at ${formatDate(entry.occurred_at)}`}
                >
                  Open
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function ActorCell({ actor, onActor }: { actor: Actor; onActor: (actor: Actor) => void }) {
  const name = actorName(actor);
  const clickable = Boolean(actor.user_id ?? actor.id);
  return (
    <Stack gap={0}>
      {clickable ? (
        <Anchor
          {...LINK}
          component="button"
          type="button"
          size="sm"
          ta="left"
          onClick={() => onActor(actor)}
          title={`Show all activity of ${name}`}
        >
          {name}
        </Anchor>
      ) : (
        <Text size="sm">{name}</Text>
      )}
      <Text size="xs" c="dimmed">
        {actor.type.replace("_", " ")}
        {actor.super_admin ? " · platform operator" : ""}
      </Text>
    </Stack>
  );
}

function TargetCell({ target }: { target: AuditEntry["target"] }) {
  if (!target) return <Text size="sm">—</Text>;
  return (
    <Stack gap={0}>
      <Text size="sm">{target.type.replace(/_/g, " ")}</Text>
      {target.id ? (
        <Text size="xs" c="dimmed" ff="monospace" title={target.id}>
          {target.id.length > 13 ? `${target.id.slice(0, 8)}…` : target.id}
        </Text>
      ) : null}
    </Stack>
  );
}

export function OutcomeBadge({ outcome }: { outcome: AuditEntry["outcome"] }) {
  return (
    <Badge color={outcome === "failure" ? "red" : "green"} variant="dot">
      {outcome}
    </Badge>
  );
}
