import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Stack,
  Table,
  Text,
  Tooltip,
  VisuallyHidden,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { done } from "../members/ui";
import { CreateKeyModal } from "./CreateKeyModal";
import { expiringSoon, KEYS_KEY, type ApiKey } from "./keys";
import { LoadMore } from "../../components/LoadMore";

/** Story 1.2: the organization's API keys; create one (shown once) and revoke. */
export default function ApiKeysPage() {
  const { can } = useSession();
  const mayWrite = can("api_keys:write");
  const [creating, { open, close }] = useDisclosure(false);
  const client = useQueryClient();

  const query = useInfiniteQuery({
    queryKey: KEYS_KEY,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/api-keys", { params: { query: { limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  const revoke = useMutation({
    mutationFn: (key: ApiKey) =>
      unwrap(api.POST("/api/v1/api-keys/{key_id}/revoke", { params: { path: { key_id: key.id } } })),
    onSuccess: (key) => {
      done(`Key "${key.name}" is revoked.`);
      return client.invalidateQueries({ queryKey: KEYS_KEY });
    },
  });

  return (
    <>
      <PageHeader
        title="API keys"
        description="Keys for scripts, CI and integrations. A key acts with its scopes, and never with more than its owner may do."
        actions={mayWrite ? <Button onClick={open}>Create API key</Button> : null}
      />
      {revoke.isError ? (
        <ProblemAlert error={revoke.error} title="The key was not revoked" />
      ) : null}
      <QueryState
        query={query}
        label="Loading API keys"
        isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
        empty="No API keys yet. Create one to call the API from a script or pipeline."
      >
        {(data) => {
          const keys = data.pages.flatMap((p) => p.items);
          const soon = keys.filter((k) => expiringSoon(k)).length;
          return (
            <Stack gap="sm">
              {soon > 0 ? (
                <Alert
                  color="orange"
                  variant="light"
                  title="Keys expiring soon"
                  // The light orange title fails contrast; the text colour passes in both themes.
                  styles={{ title: { color: "var(--mantine-color-text)" } }}
                >
                  {soon === 1 ? "One key expires" : `${soon} keys expire`} within 7 days. Create a
                  replacement before it stops working.
                </Alert>
              ) : null}
              <KeyTable
                keys={keys}
                mayWrite={mayWrite}
                revoking={revoke.isPending ? revoke.variables?.id : undefined}
                onRevoke={(key) => revoke.mutateAsync(key).catch(() => undefined)}
              />
              <LoadMore pages={query} />
            </Stack>
          );
        }}
      </QueryState>
      {mayWrite ? <CreateKeyModal opened={creating} onClose={close} /> : null}
    </>
  );
}

function KeyTable({
  keys,
  mayWrite,
  revoking,
  onRevoke,
}: {
  keys: ApiKey[];
  mayWrite: boolean;
  revoking?: string;
  onRevoke: (key: ApiKey) => Promise<unknown>;
}) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="API keys">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Prefix</Table.Th>
            <Table.Th>Scopes</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>Status</Table.Th>
            {mayWrite ? (
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            ) : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.map((key) => (
            <Table.Tr key={key.id} data-testid={`api-key-${key.prefix}`}>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm" fw={500}>
                    {key.name}
                  </Text>
                  {key.kind === "service" ? (
                    <Tooltip label="Issued by an operator; acts with its scopes alone">
                      <Badge size="xs" variant="outline" color="gray">
                        service
                      </Badge>
                    </Tooltip>
                  ) : null}
                </Group>
                {key.description ? (
                  <Text size="xs" c="dimmed" lineClamp={2}>
                    {key.description}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <Code>{`sc_${key.prefix}_…`}</Code>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {key.scopes.map((s) => (
                    <Badge key={s} size="sm" variant="light" tt="none">
                      {s}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ whiteSpace: "nowrap" }}>
                  {formatDate(key.created_at)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={key.last_used_at ? formatDate(key.last_used_at) : undefined}>
                  {key.last_used_at ? fromNow(key.last_used_at) : "never"}
                </Text>
              </Table.Td>
              <Table.Td>
                <Expiry apiKey={key} />
              </Table.Td>
              <Table.Td>
                <StatusBadge status={key.status} />
              </Table.Td>
              {mayWrite ? (
                <Table.Td>
                  {key.status === "active" ? (
                    <ConfirmButton
                      size="xs"
                      title={`Revoke "${key.name}"?`}
                      message={`Requests with sc_${key.prefix}_… are refused from now on. This cannot be undone.`}
                      confirmLabel="Revoke key"
                      loading={revoking === key.id}
                      onConfirm={() => onRevoke(key)}
                    >
                      Revoke
                    </ConfirmButton>
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

function Expiry({ apiKey }: { apiKey: ApiKey }) {
  if (!apiKey.expires_at) return <Text size="sm">never</Text>;
  return (
    <Stack gap={2} align="flex-start">
      <Text size="sm" title={formatDate(apiKey.expires_at)}>
        {fromNow(apiKey.expires_at)}
      </Text>
      {expiringSoon(apiKey) ? (
        <Badge size="xs" color="orange" variant="dot" style={{ minWidth: "max-content" }}>
          Expires soon
        </Badge>
      ) : null}
    </Stack>
  );
}

const STATUS_COLOR: Record<ApiKey["status"], string> = {
  active: "green",
  expired: "orange",
  revoked: "gray",
};

function StatusBadge({ status }: { status: ApiKey["status"] }) {
  return (
    <Badge
      color={STATUS_COLOR[status]}
      variant="dot"
      data-testid="key-status"
      style={{ minWidth: "max-content" }}
    >
      {status}
    </Badge>
  );
}
