import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  PasswordInput,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import { ProblemError } from "../../api/problem";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { EmptyState, QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import { fieldError, fieldErrorsUnder, onlyFieldErrors, saved, WriteError } from "./common";

type Provider = components["schemas"]["IdentityProviderOut"];
type ProviderUpdate = components["schemas"]["IdentityProviderUpdate"];

const PROVIDER_KEY = ["identity-provider"] as const;
const FIELDS = [
  "issuer",
  "client_id",
  "client_secret",
  "scopes",
  "allowed_email_domains",
  "claim_name",
  "claim_email",
  "claim_groups",
  "group_roles",
  "access_token_audience",
];

/** The organization's provider, or null when it has none (a 404 here is not a failure). */
async function loadProvider(): Promise<Provider | null> {
  try {
    return await unwrap(api.GET("/api/v1/organization/identity-provider"));
  } catch (error) {
    if (error instanceof ProblemError && error.status === 404) return null;
    throw error;
  }
}

export function IdentityProviderTab() {
  const { can } = useSession();
  const query = useQuery({ queryKey: PROVIDER_KEY, queryFn: loadProvider });
  const [creating, setCreating] = useState(false);
  const editable = can("org:write");
  return (
    <QueryState query={query} label="Loading the identity provider">
      {(provider) =>
        provider ? (
          <Stack gap="md">
            <Links provider={provider} />
            <ProviderForm provider={provider} editable={editable} />
          </Stack>
        ) : creating ? (
          <ProviderForm provider={null} editable={editable} onCancel={() => setCreating(false)} />
        ) : (
          <Stack align="center" gap="xs">
            <EmptyState>
              This organization has no identity provider yet, so nobody can sign in to the console
              through one. API keys still work.
            </EmptyState>
            {editable ? (
              <Button onClick={() => setCreating(true)}>Set up an identity provider</Button>
            ) : null}
          </Stack>
        )
      }
    </QueryState>
  );
}

function Links({ provider }: { provider: Provider }) {
  return (
    <Card withBorder padding="lg" aria-labelledby="idp-links-title">
      <Title order={2} size="h4" id="idp-links-title" mb={4}>
        Register these with your provider
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Last changed {formatDate(provider.updated_at)}.
      </Text>
      <Stack gap="sm">
        <CopyField label="Redirect URI" value={provider.redirect_uri} testId="redirect-uri" />
        <CopyField label="Sign-in link for members" value={provider.login_url} testId="login-url" />
      </Stack>
    </Card>
  );
}

function CopyField({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <Text size="sm" fw={500}>
        {label}
      </Text>
      <Group gap="xs" wrap="nowrap" align="center">
        <Code data-testid={testId} style={{ wordBreak: "break-all", flex: 1 }}>
          {value}
        </Code>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button size="xs" variant={copied ? "filled" : "light"} onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
      </Group>
    </div>
  );
}

interface MappingRow {
  key: number;
  group: string;
  roles: string[];
}

let nextRowKey = 1;

function rowsOf(mapping: Record<string, string[]>): MappingRow[] {
  return Object.entries(mapping).map(([group, roles]) => ({ key: nextRowKey++, group, roles }));
}

function ProviderForm({
  provider,
  editable,
  onCancel,
}: {
  provider: Provider | null;
  editable: boolean;
  onCancel?: () => void;
}) {
  const client = useQueryClient();
  const { can } = useSession();
  const roles = useQuery({
    queryKey: ["roles", "names"],
    queryFn: async () => {
      const page = await unwrap(api.GET("/api/v1/roles", { params: { query: { limit: 200 } } }));
      return page.items.map((r) => r.name);
    },
    enabled: editable && can("roles:read"),
  });

  const [issuer, setIssuer] = useState(provider?.issuer ?? "");
  const [clientId, setClientId] = useState(provider?.client_id ?? "");
  const [secret, setSecret] = useState("");
  const [scopes, setScopes] = useState<string[]>(provider?.scopes ?? ["openid", "email", "profile"]);
  const [domains, setDomains] = useState<string[]>(provider?.allowed_email_domains ?? []);
  const [claimName, setClaimName] = useState(provider?.claim_name ?? "name");
  const [claimEmail, setClaimEmail] = useState(provider?.claim_email ?? "email");
  const [claimGroups, setClaimGroups] = useState(provider?.claim_groups ?? "groups");
  const [rows, setRows] = useState<MappingRow[]>(() => rowsOf(provider?.group_roles ?? {}));
  const [audience, setAudience] = useState(provider?.access_token_audience ?? "");
  const [enabled, setEnabled] = useState(provider?.enabled ?? true);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  // What the form holds (the secret aside), to offer saving only when something changed.
  const snapshot = JSON.stringify([
    issuer,
    clientId,
    scopes,
    domains,
    claimName,
    claimEmail,
    claimGroups,
    rows.map((r) => [r.group, r.roles]),
    audience,
    enabled,
  ]);
  const [savedSnapshot, setSavedSnapshot] = useState(snapshot);
  const dirty = snapshot !== savedSnapshot || secret !== "";

  const save = useMutation({
    mutationFn: (body: ProviderUpdate) =>
      unwrap(api.PUT("/api/v1/organization/identity-provider", { body })),
    onSuccess: (updated) => {
      client.setQueryData(PROVIDER_KEY, updated);
      setSecret("");
      saved("Identity provider saved");
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/v1/organization/identity-provider")),
    onSuccess: () => {
      client.setQueryData(PROVIDER_KEY, null);
      saved("Identity provider removed");
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const errors: Record<string, string> = {};
    if (!/^https?:\/\/\S+$/.test(issuer.trim())) errors.issuer = "Enter the issuer URL (https://…).";
    if (!clientId.trim()) errors.client_id = "Enter the client id.";
    const mapping: Record<string, string[]> = {};
    for (const row of rows) {
      const group = row.group.trim();
      if (!group && !row.roles.length) continue;
      if (!group) errors[`row-${row.key}`] = "Name the group.";
      else if (mapping[group]) errors[`row-${row.key}`] = "This group is mapped twice.";
      else mapping[group] = row.roles;
    }
    setLocalErrors(errors);
    if (Object.keys(errors).length) return;
    const body: ProviderUpdate = {
      issuer: issuer.trim(),
      client_id: clientId.trim(),
      scopes,
      allowed_email_domains: domains,
      claim_name: claimName.trim(),
      claim_email: claimEmail.trim(),
      claim_groups: claimGroups.trim(),
      group_roles: mapping,
      access_token_audience: audience.trim() || null,
      enabled,
    };
    if (secret) body.client_secret = secret; // left out: the stored secret stays
    save.mutate(body, { onSuccess: () => setSavedSnapshot(snapshot) });
  };

  const error = (field: string) => localErrors[field] ?? fieldError(save.error, field);
  const groupErrors = fieldErrorsUnder(save.error, "group_roles");
  const rowError = (row: MappingRow) =>
    localErrors[`row-${row.key}`] ??
    groupErrors.find((e) => e.key === row.group.trim() || e.key.startsWith(`${row.group.trim()}.`))
      ?.message;
  const unplacedGroupError =
    groupErrors.length && !rows.some((r) => rowError(r)) ? groupErrors[0]?.message : undefined;

  return (
    <form onSubmit={submit} noValidate aria-label="Identity provider">
      <Stack gap="md">
        <Card withBorder padding="lg">
          <Group justify="space-between" mb="sm" wrap="wrap">
            <Title order={2} size="h4">
              OpenID Connect provider
            </Title>
            {provider ? (
              <Badge color={provider.enabled ? "green" : "gray"} variant="dot">
                {provider.enabled ? "Sign-in enabled" : "Sign-in disabled"}
              </Badge>
            ) : null}
          </Group>
          <Stack gap="sm">
            <TextInput
              label="Issuer URL"
              description="Exactly as the provider's metadata states it."
              placeholder="https://idp.example.com/realms/acme"
              value={issuer}
              onChange={(e) => setIssuer(e.currentTarget.value)}
              readOnly={!editable}
              required
              error={error("issuer")}
            />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label="Client id"
                value={clientId}
                onChange={(e) => setClientId(e.currentTarget.value)}
                readOnly={!editable}
                required
                error={error("client_id")}
              />
              {editable ? (
                <PasswordInput
                  label="Client secret"
                  description={
                    provider?.client_secret_set
                      ? "A secret is set. Leave empty to keep it."
                      : "Write-only: never shown again."
                  }
                  placeholder={provider?.client_secret_set ? "set" : ""}
                  value={secret}
                  onChange={(e) => setSecret(e.currentTarget.value)}
                  autoComplete="new-password"
                  error={error("client_secret")}
                />
              ) : (
                <TextInput
                  label="Client secret"
                  value={provider?.client_secret_set ? "set" : "not set"}
                  readOnly
                />
              )}
            </SimpleGrid>
            <TagsInput
              label="Scopes"
              description="openid is always requested. Press Enter after each."
              value={scopes}
              onChange={setScopes}
              readOnly={!editable}
              error={error("scopes")}
            />
            <TagsInput
              label="Allowed email domains"
              description="Only emails of these domains may sign in; empty: any domain."
              placeholder={domains.length ? "" : "acme.example"}
              value={domains}
              onChange={setDomains}
              readOnly={!editable}
              error={error("allowed_email_domains")}
            />
            <Switch
              label="Sign-in through this provider is enabled"
              checked={enabled}
              onChange={(e) => setEnabled(e.currentTarget.checked)}
              disabled={!editable}
            />
          </Stack>
        </Card>

        <Card withBorder padding="lg">
          <Title order={2} size="h4" mb={4}>
            Claims
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            Which ID token claims hold each value.
          </Text>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            <TextInput
              label="Name claim"
              value={claimName}
              onChange={(e) => setClaimName(e.currentTarget.value)}
              readOnly={!editable}
              error={error("claim_name")}
            />
            <TextInput
              label="Email claim"
              value={claimEmail}
              onChange={(e) => setClaimEmail(e.currentTarget.value)}
              readOnly={!editable}
              error={error("claim_email")}
            />
            <TextInput
              label="Groups claim"
              value={claimGroups}
              onChange={(e) => setClaimGroups(e.currentTarget.value)}
              readOnly={!editable}
              error={error("claim_groups")}
            />
          </SimpleGrid>
          <TextInput
            mt="sm"
            label="Access token audience"
            description="When set, the provider's access tokens with this audience are accepted as bearer tokens."
            value={audience}
            onChange={(e) => setAudience(e.currentTarget.value)}
            readOnly={!editable}
            error={error("access_token_audience")}
          />
        </Card>

        <Card withBorder padding="lg">
          <Title order={2} size="h4" mb={4}>
            Groups to roles
          </Title>
          <Text size="sm" c="dimmed" mb="sm">
            At each sign-in, members get the roles their groups map to; roles given by hand stay.
          </Text>
          <Stack gap="xs">
            {rows.length === 0 ? (
              <Text size="sm" c="dimmed">
                No group is mapped: members get roles by hand only.
              </Text>
            ) : null}
            {rows.map((row, index) => (
              <Group key={row.key} align="flex-start" gap="xs" wrap="wrap" data-testid="group-role-row">
                <TextInput
                  label={`Group ${index + 1}`}
                  value={row.group}
                  onChange={(e) => {
                    const group = e.currentTarget.value;
                    setRows((all) => all.map((r) => (r.key === row.key ? { ...r, group } : r)));
                  }}
                  readOnly={!editable}
                  error={rowError(row)}
                  style={{ flex: "1 1 180px" }}
                />
                <TagsInput
                  label={`Roles of group ${index + 1}`}
                  data={roles.data ?? []}
                  value={row.roles}
                  onChange={(value) =>
                    setRows((all) => all.map((r) => (r.key === row.key ? { ...r, roles: value } : r)))
                  }
                  readOnly={!editable}
                  style={{ flex: "2 1 220px" }}
                />
                {editable ? (
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size="lg"
                    mt={{ base: 0, sm: 25 }}
                    aria-label={`Remove mapping of group ${index + 1}`}
                    onClick={() => setRows((all) => all.filter((r) => r.key !== row.key))}
                  >
                    <span aria-hidden>✕</span>
                  </ActionIcon>
                ) : null}
              </Group>
            ))}
            {unplacedGroupError ? (
              <Text size="sm" c="var(--mantine-color-error)" role="alert">
                {unplacedGroupError}
              </Text>
            ) : null}
            {editable ? (
              <Group>
                <Button
                  variant="light"
                  size="xs"
                  onClick={() => setRows((all) => [...all, { key: nextRowKey++, group: "", roles: [] }])}
                >
                  Add a group mapping
                </Button>
              </Group>
            ) : null}
          </Stack>
        </Card>

        {save.isError && !onlyFieldErrors(save.error, FIELDS) ? (
          <WriteError error={save.error} title="The identity provider was not saved" />
        ) : null}
        {remove.isError ? (
          <WriteError error={remove.error} title="The identity provider was not removed" />
        ) : null}
        {editable ? (
          <Group justify="space-between" wrap="wrap" gap="xs">
            {provider ? (
              <ConfirmButton
                title="Remove the identity provider?"
                message="Nobody can sign in through it any more, and its client secret is deleted. Sessions end when they next need the provider."
                confirmLabel="Remove provider"
                loading={remove.isPending}
                onConfirm={async () => {
                  try {
                    await remove.mutateAsync();
                  } catch {
                    // shown above
                  }
                }}
              >
                Remove provider
              </ConfirmButton>
            ) : (
              <Button variant="default" onClick={onCancel}>
                Cancel
              </Button>
            )}
            <Button type="submit" loading={save.isPending} disabled={!dirty}>
              Save provider
            </Button>
          </Group>
        ) : null}
        {editable ? (
          <Text size="xs" c="dimmed">
            Saving reads the provider's metadata and keys first. It needs a recent sign-in: you
            may be asked to sign in again.
          </Text>
        ) : null}
      </Stack>
    </form>
  );
}
