import {
  Badge,
  Button,
  Card,
  Code,
  Drawer,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { ms, type Delivery } from "./hooks";
import { LoadMore } from "../../components/LoadMore";

type Status = Delivery["status"];
const STATUSES = [
  { value: "", label: "Any status" },
  { value: "pending", label: "Pending" },
  { value: "delivered", label: "Delivered" },
  { value: "failed", label: "Failed" },
];
const STATUS_COLOR: Record<string, string> = { delivered: "green", failed: "red", pending: "yellow" };

/** A webhook's deliveries, newest first; open one for its request and every attempt. */
export function Deliveries({ id, mayWrite }: { id: string; mayWrite: boolean }) {
  const [status, setStatus] = useState("");
  const [opened, setOpened] = useState<string | null>(null);
  const query = useInfiniteQuery({
    queryKey: ["webhooks", id, "deliveries", status],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/webhooks/{webhook_id}/deliveries", {
          params: {
            path: { webhook_id: id },
            query: {
              limit: 25,
              cursor: pageParam,
              status: status ? (status as NonNullable<Status>) : undefined,
            },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  return (
    <Card withBorder padding="md" aria-labelledby="deliveries-title">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={2} size="h4" id="deliveries-title">
          Deliveries
        </Title>
        <Group gap="xs">
          <Select
            aria-label="Delivery status"
            data={STATUSES}
            value={status}
            onChange={(v) => setStatus(v ?? "")}
            allowDeselect={false}
            w={160}
          />
          <Button variant="default" onClick={() => void query.refetch()} loading={query.isRefetching}>
            Refresh
          </Button>
        </Group>
      </Group>
      <QueryState
        query={query}
        label="Loading deliveries"
        isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
        empty={
          status
            ? `No ${status} deliveries.`
            : "No deliveries yet. Events this webhook subscribes to appear here as they are sent."
        }
      >
        {(data) => (
          <Stack gap="sm">
            <Table.ScrollContainer minWidth={760}>
              <Table striped highlightOnHover verticalSpacing="xs" aria-label="Deliveries">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Event</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Attempts</Table.Th>
                    <Table.Th>Response</Table.Th>
                    <Table.Th>When</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Details</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.pages
                    .flatMap((p) => p.items)
                    .map((d) => (
                      <Table.Tr key={d.id} data-testid="delivery-row">
                        <Table.Td>
                          <Code>{d.event_type}</Code>
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge status={d.status} />
                          {d.status === "pending" && d.next_attempt_at ? (
                            <Text size="xs" c="dimmed">
                              next try {fromNow(d.next_attempt_at)}
                            </Text>
                          ) : null}
                        </Table.Td>
                        <Table.Td>{d.attempts}</Table.Td>
                        <Table.Td>
                          <Text size="sm">
                            {d.last_status_code ?? "—"}
                            {d.last_error_class ? ` · ${d.last_error_class}` : ""}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" title={formatDate(d.last_attempt_at ?? d.created_at)}>
                            {fromNow(d.last_attempt_at ?? d.created_at)}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Button
                            size="xs"
                            variant="light"
                            onClick={() => setOpened(d.id)}
                            aria-label={`Open delivery of ${d.event_type}, ${formatDate(d.created_at)}`}
                          >
                            Open
                          </Button>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <LoadMore pages={query} />
          </Stack>
        )}
      </QueryState>
      <Drawer
        opened={opened !== null}
        onClose={() => setOpened(null)}
        position="right"
        size="lg"
        title={<Text fw={700}>Delivery</Text>}
        closeButtonProps={{ "aria-label": "Close the delivery" }}
      >
        {opened ? <DeliveryDetails webhookId={id} deliveryId={opened} mayWrite={mayWrite} /> : null}
      </Drawer>
    </Card>
  );
}

function StatusBadge({ status }: { status: string }) {
  return (
    <Badge color={STATUS_COLOR[status] ?? "gray"} variant="dot" data-testid="delivery-status">
      {status}
    </Badge>
  );
}

function DeliveryDetails({
  webhookId,
  deliveryId,
  mayWrite,
}: {
  webhookId: string;
  deliveryId: string;
  mayWrite: boolean;
}) {
  const client = useQueryClient();
  const path = { webhook_id: webhookId, delivery_id: deliveryId };
  const query = useQuery({
    queryKey: ["webhooks", webhookId, "delivery", deliveryId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", { params: { path } })),
  });
  const redeliver = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
          params: { path },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: "green", message: "The delivery is queued to be sent again." });
      return client.invalidateQueries({ queryKey: ["webhooks", webhookId] });
    },
  });

  return (
    <QueryState query={query} label="Loading the delivery">
      {(d) => (
        <Stack gap="sm" data-testid="delivery-details">
          <Group gap="xs">
            <Code fz="sm">{d.event_type}</Code>
            <StatusBadge status={d.status} />
          </Group>
          <Text size="sm">
            Event at {formatDate(d.occurred_at)}; {d.attempts}{" "}
            {d.attempts === 1 ? "attempt" : "attempts"}
            {d.delivered_at ? `; delivered ${formatDate(d.delivered_at)}` : ""}
            {d.status === "pending" && d.next_attempt_at ? `; next try ${formatDate(d.next_attempt_at)}` : ""}.
          </Text>
          <Text size="xs" c="dimmed">
            webhook-id {d.message_id}
          </Text>
          {mayWrite && d.status !== "pending" ? (
            <Group>
              <Button variant="light" size="xs" onClick={() => redeliver.mutate()} loading={redeliver.isPending}>
                Redeliver
              </Button>
            </Group>
          ) : null}
          {redeliver.isError ? <ProblemAlert error={redeliver.error} title="Not sent again" /> : null}
          <Title order={2} size="h5">
            Request
          </Title>
          <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }} data-testid="delivery-payload">
            {JSON.stringify(d.payload, null, 2)}
          </Code>
          <Title order={2} size="h5">
            Attempts
          </Title>
          {d.attempt_log.length === 0 ? (
            <Text size="sm">Not attempted yet.</Text>
          ) : (
            d.attempt_log.map((a, i) => (
              <Paper key={`${a.attempted_at}-${i}`} withBorder p="xs" data-testid="attempt">
                <Group gap="xs">
                  <Badge color={a.succeeded ? "green" : "red"} variant="dot">
                    {a.status_code ?? a.error_class ?? (a.succeeded ? "ok" : "failed")}
                  </Badge>
                  <Text size="sm">{formatDate(a.attempted_at)}</Text>
                  <Text size="sm" c="dimmed">
                    {ms(a.latency_ms)}
                  </Text>
                </Group>
                {a.error_message ? (
                  <Text size="sm" mt={4}>
                    {a.error_class}: {a.error_message}
                  </Text>
                ) : null}
                {a.response_snippet ? (
                  <Code block mt={4} style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                    {a.response_snippet}
                  </Code>
                ) : null}
              </Paper>
            ))
          )}
        </Stack>
      )}
    </QueryState>
  );
}
