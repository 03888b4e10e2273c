import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { SecretOnce } from "../../components/SecretOnce";
import { formatDate } from "../../components/time";
import { LINK } from "../audit/tones";
import { Deliveries } from "./Deliveries";
import { ms, webhookKey, WEBHOOKS_KEY, type TestResult, type Webhook } from "./hooks";
import { StatsCard } from "./StatsCard";
import { WebhookForm, type WebhookValues } from "./WebhookForm";
import { ActiveBadge, EventBadges } from "./WebhooksPage";

/** One webhook: change it, test it, rotate its secret, its deliveries and how they go. */
export default function WebhookDetail() {
  const { webhookId = "" } = useParams();
  const query = useQuery({
    queryKey: webhookKey(webhookId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: webhookId } } })),
  });
  return (
    <>
      <Anchor {...LINK} component={Link} to="/webhooks" size="sm">
        ← All webhooks
      </Anchor>
      <QueryState query={query} label="Loading the webhook">
        {(hook) => <Loaded hook={hook} />}
      </QueryState>
    </>
  );
}

function Loaded({ hook }: { hook: Webhook }) {
  const { can } = useSession();
  const mayWrite = can("webhooks:write");
  const client = useQueryClient();
  const navigate = useNavigate();
  const path = { webhook_id: hook.id };

  const test = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/webhooks/{webhook_id}/test", { params: { path } })),
    onSettled: () => client.invalidateQueries({ queryKey: webhookKey(hook.id) }),
  });
  const update = useMutation({
    mutationFn: (values: WebhookValues) =>
      unwrap(api.PATCH("/api/v1/webhooks/{webhook_id}", { params: { path }, body: values })),
    onSuccess: (saved) => {
      notifications.show({ color: "green", message: "The webhook is saved." });
      client.setQueryData(webhookKey(hook.id), saved);
      return client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/webhooks/{webhook_id}", { params: { path } })),
    onSuccess: async () => {
      notifications.show({ color: "green", message: `The webhook for ${hook.url} is deleted.` });
      client.removeQueries({ queryKey: webhookKey(hook.id) });
      await client.invalidateQueries({ queryKey: WEBHOOKS_KEY });
      await navigate("/webhooks");
    },
  });

  return (
    <Stack gap="md" mt="xs">
      <PageHeader
        title={hook.description || "Webhook"}
        description={
          <Text span size="sm" style={{ wordBreak: "break-all" }} data-testid="webhook-url">
            {hook.url}
          </Text>
        }
        actions={
          mayWrite ? (
            <>
              <Button onClick={() => test.mutate()} loading={test.isPending}>
                Test webhook
              </Button>
              <RotateSecret id={hook.id} />
              <ConfirmButton
                title="Delete this webhook?"
                message={`Events stop going to ${hook.url}, and its deliveries and secret are deleted. This cannot be undone.`}
                confirmLabel="Delete webhook"
                loading={remove.isPending}
                onConfirm={() => remove.mutateAsync().catch(() => undefined)}
              >
                Delete
              </ConfirmButton>
            </>
          ) : null
        }
      />
      {remove.isError ? <ProblemAlert error={remove.error} title="The webhook was not deleted" /> : null}
      {test.isError ? <ProblemAlert error={test.error} title="The test was not sent" /> : null}
      {test.data ? <TestAnswer result={test.data} /> : null}
      {hook.disabled_reason ? (
        <Alert color="red" variant="default" title="SprintConnect stopped sending events">
          {hook.disabled_reason === "gone"
            ? "The receiver answered 410 Gone."
            : "Every attempt failed for too long."}{" "}
          Deliveries wait until the webhook is enabled again
          {hook.disabled_at ? ` (disabled ${formatDate(hook.disabled_at)})` : ""}.
        </Alert>
      ) : null}
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <Card withBorder padding="md" aria-labelledby="settings-title">
          <Title order={2} size="h4" id="settings-title" mb="sm">
            Settings
          </Title>
          {mayWrite ? (
            <WebhookForm
              key={hook.updated_at}
              initial={{
                url: hook.url,
                description: hook.description,
                enabled: hook.enabled,
                event_types: hook.event_types,
              }}
              submitLabel="Save changes"
              showEnabled
              pending={update.isPending}
              error={update.error ?? undefined}
              onSubmit={(values) => update.mutate(values)}
            />
          ) : (
            <ReadOnlySettings hook={hook} />
          )}
        </Card>
        <Stack gap="md">
          <StatsCard id={hook.id} />
          <Card withBorder padding="md" aria-labelledby="secret-title">
            <Title order={2} size="h4" id="secret-title" mb="xs">
              Signing secret
            </Title>
            <Text size="sm">
              {hook.secret_rotated_at
                ? `Last rotated ${formatDate(hook.secret_rotated_at)}.`
                : `Set when the webhook was created, ${formatDate(hook.created_at)}.`}
            </Text>
            {hook.previous_secret_expires_at ? (
              <Text size="sm" c="dimmed">
                The previous secret also signs until {formatDate(hook.previous_secret_expires_at)}.
              </Text>
            ) : null}
          </Card>
        </Stack>
      </SimpleGrid>
      <Deliveries id={hook.id} mayWrite={mayWrite} />
    </Stack>
  );
}

function ReadOnlySettings({ hook }: { hook: Webhook }) {
  return (
    <Stack gap="xs">
      <Group gap="xs">
        <Text size="sm" c="dimmed" w={90}>
          Status
        </Text>
        <ActiveBadge webhook={hook} />
      </Group>
      <Group gap="xs" align="flex-start" wrap="nowrap">
        <Text size="sm" c="dimmed" w={90} style={{ flexShrink: 0 }}>
          Events
        </Text>
        <EventBadges types={hook.event_types} max={50} />
      </Group>
      <Group gap="xs">
        <Text size="sm" c="dimmed" w={90}>
          Created
        </Text>
        <Text size="sm">{formatDate(hook.created_at)}</Text>
      </Group>
    </Stack>
  );
}

/** What the receiver answered to the test event. */
export function TestAnswer({ result }: { result: TestResult }) {
  return (
    <Alert
      color={result.succeeded ? "green" : "red"}
      variant="default"
      icon={<span aria-hidden>{result.succeeded ? "✓" : "✕"}</span>}
      title={result.succeeded ? "The receiver accepted the test event" : "The test event failed"}
      data-testid="test-result"
      role="status"
    >
      <Stack gap={4}>
        <Text size="sm">
          Status <b data-testid="test-status">{result.status_code ?? "no answer"}</b> in{" "}
          {ms(result.latency_ms)}
          {result.error_class ? ` · ${result.error_class}` : ""}
          {result.error_message ? `: ${result.error_message}` : ""}
        </Text>
        <Text size="xs" c="dimmed">
          webhook-id {result.message_id}
        </Text>
        {result.response_snippet ? (
          <Code block data-testid="test-body" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
            {result.response_snippet}
          </Code>
        ) : (
          <Text size="xs">The answer had no body.</Text>
        )}
      </Stack>
    </Alert>
  );
}

const OVERLAPS = [
  { value: "0", label: "End it now" },
  { value: "3600", label: "1 hour" },
  { value: "86400", label: "24 hours" },
  { value: "604800", label: "7 days" },
];

/** A new signing secret, shown once; the old one may keep signing for a while. */
function RotateSecret({ id }: { id: string }) {
  const [opened, { open, close }] = useDisclosure(false);
  const [overlap, setOverlap] = useState("86400");
  const client = useQueryClient();
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/webhooks/{webhook_id}/rotate-secret", {
          params: { path: { webhook_id: id } },
          body: { overlap_seconds: Number(overlap) },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: webhookKey(id) }),
  });
  const done = () => {
    rotate.reset();
    close();
  };
  return (
    <>
      <Button variant="default" onClick={open}>
        Rotate secret
      </Button>
      <Modal opened={opened} onClose={done} title="Rotate the signing secret" centered size="lg">
        {rotate.data ? (
          <Stack gap="sm">
            <SecretOnce label="new signing secret" value={rotate.data.secret} />
            {rotate.data.previous_secret_expires_at ? (
              <Text size="sm">
                Requests carry both signatures until{" "}
                {formatDate(rotate.data.previous_secret_expires_at)}.
              </Text>
            ) : null}
            <Group justify="flex-end">
              <Button onClick={done}>
                Done
              </Button>
            </Group>
          </Stack>
        ) : (
          <Stack gap="sm">
            <Text size="sm">
              SprintConnect signs with a new secret from now on. While the old secret keeps
              signing beside it, your receiver can switch at its own pace.
            </Text>
            <Select
              label="Keep the old secret signing for"
              data={OVERLAPS}
              value={overlap}
              onChange={(v) => setOverlap(v ?? "86400")}
              allowDeselect={false}
            />
            {rotate.isError ? <ProblemAlert error={rotate.error} title="The secret was not rotated" /> : null}
            <Group justify="flex-end" gap="xs">
              <Button variant="default" onClick={done}>
                Cancel
              </Button>
              <Button onClick={() => rotate.mutate()} loading={rotate.isPending}>
                Rotate secret
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
