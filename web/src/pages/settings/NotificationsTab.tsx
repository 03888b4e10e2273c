import {
  Badge,
  Card,
  Checkbox,
  Group,
  PasswordInput,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import { fieldError, onlyFieldErrors, saved, SaveBar, WriteError } from "./common";

type Preferences = components["schemas"]["NotificationPreferences"];
type PreferencesUpdate = components["schemas"]["NotificationPreferencesUpdate"];
type HealthEvent = Preferences["events"][number];

const EVENTS: { value: HealthEvent; label: string }[] = [
  { value: "server.health.unhealthy", label: "A server turns unhealthy" },
  { value: "server.health.degraded", label: "A server escalates to degraded" },
  { value: "server.health.recovered", label: "A server recovers" },
];
const KEY = ["notification-preferences"] as const;

/** Your own channels and events (each member sets theirs). */
export function NotificationsTab() {
  const query = useQuery({
    queryKey: KEY,
    queryFn: () => unwrap(api.GET("/api/v1/me/notification-preferences")),
  });
  return (
    <QueryState query={query} label="Loading your notification preferences">
      {(prefs) => <PreferencesForm prefs={prefs} />}
    </QueryState>
  );
}

function PreferencesForm({ prefs }: { prefs: Preferences }) {
  const client = useQueryClient();
  const [emailOn, setEmailOn] = useState(prefs.email.enabled);
  const [address, setAddress] = useState(prefs.email.uses_account_email ? "" : (prefs.email.address ?? ""));
  const [slackOn, setSlackOn] = useState(prefs.slack.enabled);
  const [slackUrl, setSlackUrl] = useState("");
  const [forgetSlack, setForgetSlack] = useState(false);
  const [hookOn, setHookOn] = useState(prefs.webhook.enabled);
  const [hookUrl, setHookUrl] = useState(prefs.webhook.url ?? "");
  const [hookSecret, setHookSecret] = useState("");
  const [forgetSecret, setForgetSecret] = useState(false);
  const [events, setEvents] = useState<string[]>(prefs.events);

  const save = useMutation({
    mutationFn: (body: PreferencesUpdate) =>
      unwrap(api.PUT("/api/v1/me/notification-preferences", { body })),
    onSuccess: (updated) => {
      client.setQueryData(KEY, updated);
      setSlackUrl("");
      setHookSecret("");
      setForgetSlack(false);
      setForgetSecret(false);
      saved("Notification preferences saved");
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: PreferencesUpdate = {
      email: { enabled: emailOn, address: address.trim() || null },
      slack: { enabled: slackOn },
      webhook: { enabled: hookOn, url: hookUrl.trim() || null },
      events: events as HealthEvent[],
    };
    // Secrets: left out keeps the stored one, null removes it.
    if (slackUrl) body.slack!.webhook_url = slackUrl;
    else if (forgetSlack) body.slack!.webhook_url = null;
    if (hookSecret) body.webhook!.secret = hookSecret;
    else if (forgetSecret) body.webhook!.secret = null;
    save.mutate(body);
  };
  const error = (field: string) => fieldError(save.error, field);

  return (
    <form onSubmit={submit} noValidate aria-label="My notifications">
      <Stack gap="md">
        <Text size="sm" c="dimmed">
          How you hear about servers' health in this organization.{" "}
          {prefs.updated_at
            ? `Last saved ${formatDate(prefs.updated_at)}.`
            : "Until you save, every health event goes to your account's email."}
        </Text>
        <Card withBorder padding="lg">
          <Title order={2} size="h4" mb="sm">
            Email
          </Title>
          <Stack gap="sm">
            <Switch label="Send email" checked={emailOn} onChange={(e) => setEmailOn(e.currentTarget.checked)} />
            <TextInput
              label="Address"
              description="Empty: your account's email address."
              placeholder={prefs.email.uses_account_email ? (prefs.email.address ?? "") : ""}
              value={address}
              onChange={(e) => setAddress(e.currentTarget.value)}
              error={error("email.address")}
            />
          </Stack>
        </Card>
        <Card withBorder padding="lg">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Slack
            </Title>
            <Badge variant="dot" color={prefs.slack.configured ? "green" : "gray"}>
              {prefs.slack.configured ? "Webhook URL set" : "No webhook URL"}
            </Badge>
          </Group>
          <Stack gap="sm">
            <Switch label="Post to Slack" checked={slackOn} onChange={(e) => setSlackOn(e.currentTarget.checked)} />
            <PasswordInput
              label="Incoming webhook URL"
              description={
                prefs.slack.configured
                  ? "Write-only. Leave empty to keep the stored URL."
                  : "Write-only: never shown again."
              }
              placeholder={prefs.slack.configured ? "set" : "https://hooks.slack.com/services/…"}
              value={slackUrl}
              onChange={(e) => setSlackUrl(e.currentTarget.value)}
              autoComplete="off"
              error={error("slack.webhook_url")}
            />
            {prefs.slack.configured ? (
              <Checkbox
                label="Remove the stored URL"
                checked={forgetSlack}
                onChange={(e) => setForgetSlack(e.currentTarget.checked)}
              />
            ) : null}
          </Stack>
        </Card>
        <Card withBorder padding="lg">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Webhook
            </Title>
            <Badge variant="dot" color={prefs.webhook.secret_configured ? "green" : "gray"}>
              {prefs.webhook.secret_configured ? "Signing secret set" : "Unsigned"}
            </Badge>
          </Group>
          <Stack gap="sm">
            <Switch label="POST to a webhook" checked={hookOn} onChange={(e) => setHookOn(e.currentTarget.checked)} />
            <TextInput
              label="URL"
              placeholder="https://alerts.example.com/sprintconnect"
              value={hookUrl}
              onChange={(e) => setHookUrl(e.currentTarget.value)}
              error={error("webhook.url")}
            />
            <PasswordInput
              label="Signing secret"
              description="whsec_… (Standard Webhooks). Write-only; leave empty to keep the stored one."
              placeholder={prefs.webhook.secret_configured ? "set" : ""}
              value={hookSecret}
              onChange={(e) => setHookSecret(e.currentTarget.value)}
              autoComplete="off"
              error={error("webhook.secret")}
            />
            {prefs.webhook.secret_configured ? (
              <Checkbox
                label="Remove the stored secret"
                checked={forgetSecret}
                onChange={(e) => setForgetSecret(e.currentTarget.checked)}
              />
            ) : null}
          </Stack>
        </Card>
        <Card withBorder padding="lg">
          <Checkbox.Group
            label="Tell me when"
            value={events}
            onChange={setEvents}
            error={error("events")}
          >
            <Stack gap={6} mt="xs">
              {EVENTS.map((e) => (
                <Checkbox key={e.value} value={e.value} label={e.label} />
              ))}
            </Stack>
          </Checkbox.Group>
        </Card>
        {save.isError && !onlyFieldErrors(save.error, ["email", "slack", "webhook", "events"]) ? (
          <WriteError error={save.error} title="Your preferences were not saved" />
        ) : null}
        <SaveBar loading={save.isPending} label="Save preferences" />
      </Stack>
    </form>
  );
}
