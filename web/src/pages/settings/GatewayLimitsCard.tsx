import { Button, Card, Group, Stack, Text, TextInput, Title } from "@mantine/core";
import { useEffect, useState, type FormEvent } from "react";

import { useSession } from "../../auth/session";
import {
  fieldError,
  onlyFieldErrors,
  saved,
  SaveBar,
  useUpdateOrganization,
  WriteError,
  type Organization,
} from "./common";

type LimitClass = "read" | "write" | "expensive";
type Limits = Record<LimitClass, string>;

const CLASSES: { name: LimitClass; label: string; explains: string }[] = [
  {
    name: "read",
    label: "Read",
    explains: "Tools their server annotates as read-only, and every resource read and prompt.",
  },
  { name: "write", label: "Write", explains: "Every other tool." },
  { name: "expensive", label: "Expensive", explains: "Tools a toolset marks as expensive." },
];

/** The organization's rate limits per capability class, edited in place (`org:write`). */
export function GatewayLimitsCard({ org }: { org: Organization }) {
  const { can } = useSession();
  const editable = can("org:write");
  const update = useUpdateOrganization();
  const current = org.gateway_limits;
  const [draft, setDraft] = useState<Limits>(current);
  const [resetting, setResetting] = useState<LimitClass | null>(null);

  // A saved change (or a class back on its default) shows the value now in effect; a refetch
  // with the same values keeps what is being typed.
  const { read, write, expensive } = current;
  useEffect(() => setDraft({ read, write, expensive }), [read, write, expensive]);

  const changes = Object.fromEntries(
    CLASSES.filter(({ name }) => draft[name].trim() !== current[name]).map(({ name }) => [
      name,
      draft[name].trim(),
    ]),
  );
  const dirty = Object.keys(changes).length > 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!dirty) return;
    setResetting(null);
    update.mutate(
      { gateway_limits: changes },
      { onSuccess: () => saved("Gateway rate limits saved") },
    );
  };

  const backToDefault = (name: LimitClass, label: string) => {
    setResetting(name);
    update.mutate(
      { gateway_limits: { [name]: null } },
      { onSuccess: () => saved(`${label} calls use the platform's default limit`) },
    );
  };

  return (
    <Card withBorder padding="lg" aria-labelledby="gateway-limits-title" data-testid="gateway-limits">
      <form onSubmit={submit} noValidate aria-label="Gateway rate limits">
        <Title order={2} size="h4" id="gateway-limits-title" mb={4}>
          Gateway rate limits
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          How many calls each caller (a person, an API key or a service account) may make through
          toolsets and the playground, per class of capability. Write a limit like{" "}
          <code>600/minute</code> or <code>10 per second</code>; an empty field means no limit.
        </Text>
        <Stack gap="sm">
          {CLASSES.map(({ name, label, explains }) => (
            <Group key={name} align="flex-start" gap="xs" wrap="wrap">
              <TextInput
                label={label}
                description={explains}
                placeholder="No limit"
                value={draft[name]}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  setDraft((d) => ({ ...d, [name]: value }));
                }}
                readOnly={!editable}
                maxLength={64}
                error={fieldError(update.error, `gateway_limits.${name}`)}
                style={{ flex: "1 1 260px" }}
              />
              {editable ? (
                <Button
                  variant="default"
                  size="sm"
                  mt={{ base: 0, xs: 44 }}
                  loading={update.isPending && resetting === name}
                  disabled={update.isPending}
                  onClick={() => backToDefault(name, label)}
                  aria-label={`Use the default ${label.toLowerCase()} limit`}
                >
                  Use the default
                </Button>
              ) : null}
            </Group>
          ))}
          {update.isError && !onlyFieldErrors(update.error, ["gateway_limits"]) ? (
            <WriteError error={update.error} title="The rate limits were not saved" />
          ) : null}
          {editable ? (
            <SaveBar
              loading={update.isPending && resetting === null}
              disabled={!dirty || update.isPending}
              label="Save rate limits"
            />
          ) : null}
        </Stack>
      </form>
    </Card>
  );
}
