import { Anchor, Badge, Button, Group, Modal, Stack, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { SecretOnce } from "../../components/SecretOnce";
import { fromNow, formatDate } from "../../components/time";
import { LINK } from "../audit/tones";
import { useStats, WEBHOOKS_KEY, type Webhook, type WebhookCreated } from "./hooks";
import { WebhookForm, type WebhookValues } from "./WebhookForm";
import { LoadMore } from "../../components/LoadMore";

/** Story 6.2: the organization's webhook endpoints; add one (its secret shown once). */
export default function WebhooksPage() {
  const { can } = useSession();
  const mayWrite = can("webhooks:write");
  const [creating, { open, close }] = useDisclosure(false);

  const query = useInfiniteQuery({
    queryKey: [...WEBHOOKS_KEY, "list"],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/webhooks", { params: { query: { limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Tell other systems what happens here: SprintConnect POSTs signed events to these addresses, retrying with backoff when they fail."
        actions={mayWrite ? <Button onClick={open}>
              Add webhook
            </Button> : null}
      />
      <QueryState
        query={query}
        label="Loading webhooks"
        isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
        empty="No webhooks yet. Add one to send events like server.health.unhealthy to your systems."
      >
        {(data) => (
          <Stack gap="sm">
            <WebhookTable webhooks={data.pages.flatMap((p) => p.items)} />
            <LoadMore pages={query} />
          </Stack>
        )}
      </QueryState>
      {mayWrite ? <CreateWebhookModal opened={creating} onClose={close} /> : null}
    </>
  );
}

function WebhookTable({ webhooks }: { webhooks: Webhook[] }) {
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="Webhooks">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>URL</Table.Th>
            <Table.Th>Events</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Last delivery</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {webhooks.map((hook) => (
            <Table.Tr key={hook.id} data-testid="webhook-row">
              <Table.Td maw={360}>
                <Anchor
                  {...LINK}
                  component={Link}
                  to={`/webhooks/${hook.id}`}
                  size="sm"
                  style={{ wordBreak: "break-all" }}
                >
                  {hook.url}
                </Anchor>
                {hook.description ? (
                  <Text size="xs" c="dimmed" lineClamp={1}>
                    {hook.description}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <EventBadges types={hook.event_types} />
              </Table.Td>
              <Table.Td>
                <ActiveBadge webhook={hook} />
              </Table.Td>
              <Table.Td>
                <LastDelivery id={hook.id} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function EventBadges({ types, max = 3 }: { types: string[]; max?: number }) {
  const shown = types.slice(0, max);
  return (
    <Group gap={4}>
      {shown.map((t) => (
        <Badge key={t} size="sm" variant="light" tt="none">
          {t === "*" ? "every event" : t}
        </Badge>
      ))}
      {types.length > max ? (
        <Badge size="sm" variant="default" tt="none" title={types.slice(max).join(", ")}>
          +{types.length - max} more
        </Badge>
      ) : null}
    </Group>
  );
}

export function ActiveBadge({ webhook }: { webhook: Webhook }) {
  if (webhook.enabled) {
    return (
      <Badge color="green" variant="dot">
        active
      </Badge>
    );
  }
  const why =
    webhook.disabled_reason === "gone"
      ? "the receiver answered 410 Gone"
      : webhook.disabled_reason === "failing"
        ? "every attempt failed for days"
        : null;
  return (
    <Badge color={why ? "red" : "gray"} variant="dot" title={why ? `Disabled by SprintConnect: ${why}` : undefined}>
      {why ? `disabled (${webhook.disabled_reason})` : "paused"}
    </Badge>
  );
}

function LastDelivery({ id }: { id: string }) {
  const stats = useStats(id);
  if (stats.isPending) return <Text size="sm" c="dimmed">…</Text>;
  if (stats.isError) return <Text size="sm" c="dimmed">unknown</Text>;
  const last = stats.data.last_delivery;
  if (!last) return <Text size="sm" c="dimmed">none yet</Text>;
  return (
    <Group gap={6} wrap="nowrap">
      <Badge color={last.succeeded ? "green" : "red"} variant="dot" data-testid="last-delivery-status">
        {last.status_code ?? (last.succeeded ? "ok" : "failed")}
      </Badge>
      <Text size="sm" title={formatDate(last.at)}>
        {fromNow(last.at)}
      </Text>
    </Group>
  );
}

const BLANK: WebhookValues = { url: "", description: "", enabled: true, event_types: [] };

/** Add a webhook, then show its signing secret this once. */
function CreateWebhookModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: (values: WebhookValues) =>
      unwrap(
        api.POST("/api/v1/webhooks", {
          body: {
            url: values.url,
            description: values.description,
            enabled: true,
            event_types: values.event_types,
          },
        }),
      ),
    onSuccess: (created: WebhookCreated) => {
      notifications.show({ color: "green", message: `Webhook for ${created.url} is created.` });
      return client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
    },
  });
  const created = create.data;
  const done = () => {
    create.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={done} title="Add webhook" size="xl" centered>
      {created ? (
        <Stack gap="sm">
          <SecretOnce label="signing secret" value={created.secret} />
          <Text size="sm">
            Check the <code>webhook-signature</code> header of each request with this secret.
          </Text>
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={done}>
              Done
            </Button>
            <Button component={Link} to={`/webhooks/${created.id}`} onClick={done}>
              Open webhook
            </Button>
          </Group>
        </Stack>
      ) : (
        <WebhookForm
          key={opened ? "open" : "closed"}
          initial={BLANK}
          submitLabel="Create webhook"
          pending={create.isPending}
          error={create.error ?? undefined}
          onSubmit={(values) => create.mutate(values)}
          onCancel={done}
        />
      )}
    </Modal>
  );
}
