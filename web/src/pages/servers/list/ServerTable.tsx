import { Anchor, Badge, Button, Group, Stack, Table, Text, Tooltip, VisuallyHidden } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";

import { api, unwrap } from "../../../api/client";
import { toProblem } from "../../../api/problem";
import { useSession } from "../../../auth/session";
import { ConfirmButton } from "../../../components/ConfirmButton";
import { formatDate, fromNow } from "../../../components/time";
import { HealthBadge } from "../HealthBadge";
import { DotBadge } from "./DotBadge";
import { CLOSE } from "./ui";
import "./servers.css";
import { STATUS_COLORS, STATUS_LABELS, TRANSPORT_LABELS, type Server } from "./labels";

const SHOWN_TAGS = 3;

/** May the caller change or delete this server? Production needs servers:production too. */
export function useCanWrite(): (server: Server) => boolean {
  const { can } = useSession();
  return (server) =>
    can("servers:write") && (server.environment !== "production" || can("servers:production"));
}

export function ServerTable({ servers, onEdit }: { servers: Server[]; onEdit: (server: Server) => void }) {
  const canWrite = useCanWrite();
  const anyWritable = servers.some(canWrite);
  return (
    <Table.ScrollContainer minWidth={960}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="Servers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Environment</Table.Th>
            <Table.Th>Transport</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Health</Table.Th>
            <Table.Th>Tags</Table.Th>
            <Table.Th>Last discovery</Table.Th>
            {anyWritable ? (
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            ) : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {servers.map((server) => (
            <Table.Tr key={server.id} data-testid="server-row" data-server-id={server.id}>
              <Table.Td maw={320}>
                <Stack gap={0}>
                  <Anchor
                    component={Link}
                    to={`/servers/${server.id}`}
                    fw={600}
                    size="sm"
                    className="sc-server-link"
                  >
                    {server.name}
                  </Anchor>
                  {server.url ? (
                    <Text size="xs" c="dimmed" truncate="end" title={server.url}>
                      {server.url}
                    </Text>
                  ) : null}
                </Stack>
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {server.environment}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{TRANSPORT_LABELS[server.transport]}</Text>
              </Table.Td>
              <Table.Td>
                <DotBadge color={STATUS_COLORS[server.status]}>{STATUS_LABELS[server.status]}</DotBadge>
              </Table.Td>
              <Table.Td>
                <Tooltip
                  label={
                    server.health.last_check_at
                      ? `Last checked ${fromNow(server.health.last_check_at)}`
                      : "Not checked yet"
                  }
                >
                  <Anchor
                    component={Link}
                    to={`/servers/${server.id}/health`}
                    aria-label={`Health of ${server.name}: ${server.health.status}`}
                    underline="never"
                  >
                    <HealthBadge status={server.health.status} />
                  </Anchor>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                <Tags tags={server.tags} />
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={server.last_discovered_at ? formatDate(server.last_discovered_at) : undefined}>
                  {server.last_discovered_at ? fromNow(server.last_discovered_at) : "Never"}
                </Text>
              </Table.Td>
              {anyWritable ? (
                <Table.Td>
                  {canWrite(server) ? (
                    <Group gap={4} wrap="nowrap" justify="flex-end">
                      <Button size="compact-sm" variant="subtle" onClick={() => onEdit(server)} aria-label={`Edit ${server.name}`}>
                        Edit
                      </Button>
                      <DeleteServerButton server={server} />
                    </Group>
                  ) : null}
                </Table.Td>
              ) : null}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function Tags({ tags }: { tags: string[] | null }) {
  if (tags === null) return <Text size="sm" c="dimmed">hidden</Text>;
  if (!tags.length) return <Text size="sm" c="dimmed">—</Text>;
  const rest = tags.length - SHOWN_TAGS;
  return (
    <Group gap={4} wrap="wrap">
      {tags.slice(0, SHOWN_TAGS).map((t) => (
        <Badge key={t} size="sm" variant="default" tt="none">
          {t}
        </Badge>
      ))}
      {rest > 0 ? (
        <Tooltip label={tags.slice(SHOWN_TAGS).join(", ")}>
          <Badge size="sm" variant="default" tt="none" tabIndex={0} aria-label={`${rest} more tags: ${tags.slice(SHOWN_TAGS).join(", ")}`}>
            +{rest}
          </Badge>
        </Tooltip>
      ) : null}
    </Group>
  );
}

/** Delete, after a confirmation that names the server; its stored credentials go with it. */
export function DeleteServerButton({ server, onDeleted }: { server: Server; onDeleted?: () => void }) {
  const client = useQueryClient();
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/servers/{server_id}", { params: { path: { server_id: server.id } } })),
    onSuccess: async () => {
      notifications.show({ closeButtonProps: CLOSE, color: "green", title: "Server deleted", message: server.name });
      await client.invalidateQueries({ queryKey: ["servers"] });
      onDeleted?.();
    },
    onError: (error) => {
      const problem = toProblem(error);
      notifications.show({ closeButtonProps: CLOSE, color: "red", title: problem.title, message: problem.detail ?? "The server was not deleted." });
    },
  });
  return (
    <ConfirmButton
      size="compact-sm"
      variant="subtle"
      aria-label={`Delete ${server.name}`}
      title={`Delete ${server.name}?`}
      message={
        <>
          {server.name} ({server.environment}) and its stored credentials are removed for good. Its
          capabilities and health history go with it.
        </>
      }
      confirmLabel="Delete server"
      loading={remove.isPending}
      onConfirm={() => remove.mutateAsync().catch(() => undefined)}
    >
      Delete
    </ConfirmButton>
  );
}
