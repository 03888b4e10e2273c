import { Button, Code, Drawer, Group, List, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { ProblemAlert } from "../../components/ProblemAlert";
import { formatDate } from "../../components/time";
import { actorName, OutcomeBadge, type AuditEntry } from "./AuditPage";

type Actor = components["schemas"]["AuditActor"];

/** One entry: who, what, from where, its details, and on demand the proof it is in the log. */
export function EntryDrawer({
  entry,
  onClose,
  onActor,
}: {
  entry: AuditEntry | null;
  onClose: () => void;
  onActor: (actor: Actor) => void;
}) {
  return (
    <Drawer
      opened={entry !== null}
      onClose={onClose}
      position="right"
      size="lg"
      title={<Text fw={700}>Audit entry</Text>}
      closeButtonProps={{ "aria-label": "Close the entry" }}
    >
      {entry ? <EntryDetails key={entry.id} entry={entry} onActor={onActor} /> : null}
    </Drawer>
  );
}

function EntryDetails({ entry, onActor }: { entry: AuditEntry; onActor: (actor: Actor) => void }) {
  const who = entry.actor.user_id ?? entry.actor.id;
  return (
    <Stack gap="sm" data-testid="audit-entry">
      <Group gap="xs">
        <Code fz="sm">{entry.action}</Code>
        <OutcomeBadge outcome={entry.outcome} />
      </Group>
      <Stack gap={4}>
        <Row label="When">{formatDate(entry.occurred_at)}</Row>
        <Row label="Actor">
          {actorName(entry.actor)} ({entry.actor.type}
          {entry.actor.super_admin ? ", platform operator" : ""})
        </Row>
        <Row label="Target">
          {entry.target ? `${entry.target.type}${entry.target.id ? ` ${entry.target.id}` : ""}` : "—"}
        </Row>
        <Row label="Entry id" mono>
          {entry.id}
        </Row>
        <Row label="Request id" mono>
          {entry.request_id ?? "—"}
        </Row>
        <Row label="IP address" mono>
          {entry.ip ?? "—"}
        </Row>
        <Row label="User agent">{entry.user_agent ?? "—"}</Row>
        <Row label="Leaf index" testId="leaf-index">
          {entry.leaf_index ?? "not sequenced yet"}
        </Row>
      </Stack>
      {who ? (
        <Group>
          <Button variant="light" size="xs" onClick={() => onActor(entry.actor)}>
            All activity of {actorName(entry.actor)}
          </Button>
        </Group>
      ) : null}
      <Title order={2} size="h5">
        Details
      </Title>
      <Code block data-testid="entry-details" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
        {JSON.stringify(entry.details, null, 2)}
      </Code>
      <InclusionProof entryId={entry.id} />
    </Stack>
  );
}

function Row({
  label,
  children,
  mono,
  testId,
}: {
  label: string;
  children: ReactNode;
  mono?: boolean;
  testId?: string;
}) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Text size="sm" c="dimmed" w={100} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" ff={mono ? "monospace" : undefined} style={{ wordBreak: "break-all" }} data-testid={testId}>
        {children}
      </Text>
    </Group>
  );
}

/** The audit path from the entry's leaf to the latest signed root, fetched when asked for. */
function InclusionProof({ entryId }: { entryId: string }) {
  const [wanted, setWanted] = useState(false);
  const query = useQuery({
    queryKey: ["audit", "proof", entryId],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/audit/events/{event_id}/inclusion-proof", {
          params: { path: { event_id: entryId } },
        }),
      ),
    enabled: wanted,
    retry: false,
  });
  return (
    <Stack gap="xs">
      <Title order={2} size="h5">
        Inclusion proof
      </Title>
      {!wanted ? (
        <Group>
          <Button variant="default" size="xs" onClick={() => setWanted(true)}>
            Show inclusion proof
          </Button>
        </Group>
      ) : query.isPending ? (
        <Text size="sm" role="status">
          Computing the proof…
        </Text>
      ) : query.isError ? (
        <ProblemAlert error={query.error} title="No proof yet" />
      ) : (
        <Stack gap={4} data-testid="inclusion-proof">
          <Text size="sm">
            Leaf {query.data.leaf_index} of a tree of {query.data.tree_size} entries
            {query.data.checkpoint
              ? `, signed ${formatDate(query.data.checkpoint.issued_at)} by key ${query.data.checkpoint.key_id}`
              : ""}
            .
          </Text>
          <Row label="Leaf hash" mono>
            {query.data.leaf_hash}
          </Row>
          <Row label="Root hash" mono>
            {query.data.root_hash}
          </Row>
          <Text size="sm" c="dimmed">
            Audit path ({query.data.proof.length} hashes, sibling first):
          </Text>
          {query.data.proof.length ? (
            <List size="xs" type="ordered" ff="monospace" style={{ wordBreak: "break-all" }}>
              {query.data.proof.map((hash, i) => (
                <List.Item key={`${i}-${hash}`}>{hash}</List.Item>
              ))}
            </List>
          ) : (
            <Text size="xs">The leaf is the whole tree.</Text>
          )}
        </Stack>
      )}
    </Stack>
  );
}
