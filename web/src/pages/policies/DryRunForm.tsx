import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  List,
  NativeSelect,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useMembers, type DryRun, type DryRunResult } from "./data";
import { fieldMessages, withoutFields } from "../../api/problem";
import { PRIMARY } from "./tone";

type ResourceType = DryRun["resource"]["type"];

const RESOURCE_TYPES: { value: ResourceType; label: string }[] = [
  { value: "Server", label: "A server" },
  { value: "Capability", label: "A capability of a server" },
  { value: "Resource", label: "A kind of thing (e.g. api_keys)" },
];

const CAPABILITY_KINDS = ["tool", "resource", "resource_template", "prompt"];

interface Fields {
  subject: string;
  action: string;
  type: ResourceType;
  id: string;
  name: string;
  environment: string;
  tags: string;
  kind: string;
  server: string;
  at: string;
}

/** The attributes the schema requires for each resource type, from the form. */
export function resourceAttrs(f: Fields): Record<string, unknown> {
  const name = f.name.trim() || f.id.trim();
  if (f.type === "Server") {
    const tags = f.tags.split(",").map((t) => t.trim()).filter(Boolean);
    return { name, environment: f.environment.trim(), tags };
  }
  if (f.type === "Capability") {
    return { name, kind: f.kind, server: f.server.trim(), environment: f.environment.trim() };
  }
  return { kind: f.kind.trim() || f.id.trim() };
}

export function DryRunForm({ actions }: { actions: string[] }) {
  const { me, can } = useSession();
  const members = useMembers();
  const [f, setF] = useState<Fields>({
    subject: "",
    action: actions.includes("servers:write") ? "servers:write" : (actions[0] ?? ""),
    type: "Server",
    id: "",
    name: "",
    environment: "production",
    tags: "",
    kind: "tool",
    server: "",
    at: "",
  });
  const [missing, setMissing] = useState(false);
  const set = (key: keyof Fields) => (value: string) => setF((old) => ({ ...old, [key]: value }));

  const decide = useMutation({
    mutationFn: (body: DryRun) => unwrap(api.POST("/api/v1/policies/dry-run", { body })),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!f.id.trim()) {
      setMissing(true);
      return;
    }
    setMissing(false);
    const body: DryRun = {
      action: f.action,
      resource: { type: f.type, id: f.id.trim(), attrs: resourceAttrs(f) },
      ...(f.subject ? { user_id: f.subject } : {}),
      ...(f.at ? { at: `${f.at.length === 16 ? `${f.at}:00` : f.at}Z` } : {}),
    };
    decide.mutate(body);
  };

  const fieldError = (name: string) => fieldMessages(decide.error, name)[0];
  const memberChoices = [
    { value: "", label: `Me (${me.email ?? me.name ?? "this account"})` },
    ...(members.data?.items ?? [])
      .filter((m) => m.user_id !== me.user_id)
      .map((m) => ({ value: m.user_id, label: `${m.display_name ?? m.email} (${m.roles.join(", ") || "no role"})` })),
  ];
  const shownFieldErrors =
    fieldError("resource.id") || fieldError("at") || fieldError("action") || fieldError("user_id");

  return (
    <Stack gap="md">
      <form onSubmit={submit} aria-label="Dry-run" noValidate>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            May this member do this here? One decision with the policies in force, without doing
            anything.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <NativeSelect
              label="Member"
              description={can("users:read") ? undefined : "You may decide for yourself only."}
              data={memberChoices}
              value={f.subject}
              onChange={(e) => set("subject")(e.currentTarget.value)}
              error={fieldError("user_id")}
            />
            <NativeSelect
              label="Action"
              data={actions}
              value={f.action}
              onChange={(e) => set("action")(e.currentTarget.value)}
              error={fieldError("action")}
            />
            <NativeSelect
              label="Resource type"
              data={RESOURCE_TYPES}
              value={f.type}
              onChange={(e) => {
                const type = e.currentTarget.value as ResourceType;
                setF((old) => ({ ...old, type, kind: type === "Resource" ? "" : "tool" }));
              }}
            />
            <TextInput
              label="Resource id"
              description={f.type === "Resource" ? "e.g. api_keys, servers" : "e.g. the server's name"}
              value={f.id}
              onChange={(e) => set("id")(e.currentTarget.value)}
              required
              error={missing ? "Name the resource to decide about" : fieldError("resource.id")}
            />
            {f.type !== "Resource" ? (
              <TextInput
                label={f.type === "Server" ? "Server name" : "Capability name"}
                description="Defaults to the resource id"
                value={f.name}
                onChange={(e) => set("name")(e.currentTarget.value)}
              />
            ) : (
              <TextInput
                label="Kind"
                description="Defaults to the resource id"
                value={f.kind}
                onChange={(e) => set("kind")(e.currentTarget.value)}
              />
            )}
            {f.type !== "Resource" ? (
              <TextInput
                label="Environment"
                value={f.environment}
                onChange={(e) => set("environment")(e.currentTarget.value)}
              />
            ) : null}
            {f.type === "Server" ? (
              <TextInput
                label="Tags"
                description="Comma-separated"
                value={f.tags}
                onChange={(e) => set("tags")(e.currentTarget.value)}
              />
            ) : null}
            {f.type === "Capability" ? (
              <>
                <NativeSelect
                  label="Capability kind"
                  data={CAPABILITY_KINDS}
                  value={f.kind}
                  onChange={(e) => set("kind")(e.currentTarget.value)}
                />
                <TextInput
                  label="Its server's name"
                  value={f.server}
                  onChange={(e) => set("server")(e.currentTarget.value)}
                />
              </>
            ) : null}
            <TextInput
              type="datetime-local"
              label="As of (UTC)"
              description="Leave empty for now"
              value={f.at}
              onChange={(e) => set("at")(e.currentTarget.value)}
              error={fieldError("at")}
            />
          </SimpleGrid>
          <Group justify="flex-end">
            <Button type="submit" color={PRIMARY} loading={decide.isPending}>
              Decide
            </Button>
          </Group>
        </Stack>
      </form>
      {decide.isError ? (
        <ProblemAlert error={shownFieldErrors ? withoutFields(decide.error) : decide.error} title="The dry-run failed" />
      ) : null}
      {decide.data ? <Decision result={decide.data} /> : null}
    </Stack>
  );
}

function Decision({ result }: { result: DryRunResult }) {
  const context = result.context as { minute_of_day?: number; day_of_week?: number; time_zone?: string };
  const clock =
    typeof context.minute_of_day === "number"
      ? `${String(Math.floor(context.minute_of_day / 60)).padStart(2, "0")}:${String(context.minute_of_day % 60).padStart(2, "0")}`
      : null;
  return (
    <Alert
      color={result.allowed ? "green" : "red"}
      variant="light"
      title={result.allowed ? "Allowed" : "Denied"}
      data-testid="dry-run-decision"
      aria-live="polite"
    >
      <Stack gap={6}>
        <Text size="sm">
          {result.allowed
            ? "The policies allow this request."
            : "The policies forbid this request."}{" "}
          {result.policy_version === null
            ? "Evaluated against a draft."
            : `Evaluated with policy version ${result.policy_version}.`}
        </Text>
        <Group gap={6}>
          <Text size="sm" fw={600}>
            Decided by:
          </Text>
          {result.reasons.length ? (
            result.reasons.map((r) => (
              <Badge key={r} variant="default" tt="none">
                {r}
              </Badge>
            ))
          ) : (
            <Text size="sm">no policy (the decision failed)</Text>
          )}
        </Group>
        {result.obligations.length ? (
          <Text size="sm">
            Obligations: {result.obligations.map((o) => <Code key={o}>{o}</Code>)}
          </Text>
        ) : null}
        {result.errors.length ? (
          <>
            <Text size="sm" fw={600}>
              Why it failed:
            </Text>
            <List size="sm">
              {result.errors.map((e) => (
                <List.Item key={e}>{e}</List.Item>
              ))}
            </List>
          </>
        ) : null}
        <Text size="xs">
          {clock ? `At ${clock}, day ${context.day_of_week ?? "?"} of the week (${context.time_zone ?? "UTC"}). ` : ""}
          Decision id <Code>{result.decision_id}</Code>
        </Text>
      </Stack>
    </Alert>
  );
}
