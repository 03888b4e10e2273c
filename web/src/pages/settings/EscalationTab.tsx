import { Badge, Card, Group, NumberInput, SimpleGrid, Stack, TagsInput, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import { fieldError, onlyFieldErrors, ReadOnlyNote, saved, SaveBar, WriteError } from "./common";

type Policy = components["schemas"]["EscalationPolicy"];
type PolicyUpdate = components["schemas"]["EscalationPolicyUpdate"];

const KEY = ["escalation-policy"] as const;

/** Who is notified when servers fail: by role (members chosen by id are kept as they are). */
export function EscalationTab() {
  const query = useQuery({
    queryKey: KEY,
    queryFn: () => unwrap(api.GET("/api/v1/health/escalation-policy")),
  });
  return (
    <QueryState query={query} label="Loading the escalation policy">
      {(policy) => <PolicyForm policy={policy} />}
    </QueryState>
  );
}

function PolicyForm({ policy }: { policy: Policy }) {
  const { can } = useSession();
  const editable = can("health:write");
  const client = useQueryClient();
  const roles = useQuery({
    queryKey: ["roles", "names"],
    queryFn: async () => {
      const page = await unwrap(api.GET("/api/v1/roles", { params: { query: { limit: 200 } } }));
      return page.items.map((r) => r.name);
    },
    enabled: editable && can("roles:read"),
  });
  const [unhealthy, setUnhealthy] = useState<string[]>(policy.unhealthy.roles ?? []);
  const [degraded, setDegraded] = useState<string[]>(policy.degraded.roles ?? []);
  const [repeat, setRepeat] = useState<string | number>(policy.repeat_minutes);
  const [cooldown, setCooldown] = useState<string | number>(policy.cooldown_minutes);

  const save = useMutation({
    mutationFn: (body: PolicyUpdate) =>
      unwrap(api.PUT("/api/v1/health/escalation-policy", { body })),
    onSuccess: (updated) => {
      client.setQueryData(KEY, updated);
      saved("Escalation policy saved");
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      unhealthy: { user_ids: policy.unhealthy.user_ids ?? [], roles: unhealthy },
      degraded: { user_ids: policy.degraded.user_ids ?? [], roles: degraded },
      repeat_minutes: Number(repeat) || 0,
      cooldown_minutes: Number(cooldown) || 0,
    });
  };
  const error = (field: string) => fieldError(save.error, field);
  const byId = (n: number) =>
    n ? `${n} member${n === 1 ? "" : "s"} chosen by id ${n === 1 ? "is" : "are"} notified too.` : undefined;

  return (
    <form onSubmit={submit} noValidate aria-label="Health escalation policy">
      <Stack gap="md">
        {!editable ? (
          <ReadOnlyNote>Changing who is notified needs the health:write permission.</ReadOnlyNote>
        ) : null}
        <Card withBorder padding="lg">
          <Group justify="space-between" mb={4} wrap="wrap">
            <Title order={2} size="h4">
              Who is notified when servers fail
            </Title>
            <Badge variant="dot" color={policy.is_default ? "gray" : "indigo"}>
              {policy.is_default ? "Default policy" : `Set ${formatDate(policy.updated_at)}`}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed" mb="sm">
            Members holding any of these roles get a notice over their own channels.
          </Text>
          <Stack gap="sm">
            <TagsInput
              label="When a server turns unhealthy"
              description={byId(policy.unhealthy.user_ids?.length ?? 0)}
              data={roles.data ?? []}
              value={unhealthy}
              onChange={setUnhealthy}
              readOnly={!editable}
              error={error("unhealthy")}
            />
            <TagsInput
              label="When a server escalates to degraded"
              description={byId(policy.degraded.user_ids?.length ?? 0)}
              data={roles.data ?? []}
              value={degraded}
              onChange={setDegraded}
              readOnly={!editable}
              error={error("degraded")}
            />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <NumberInput
                label="Remind degraded recipients every (minutes)"
                description="0: never."
                value={repeat}
                onChange={setRepeat}
                min={0}
                max={10_080}
                allowDecimal={false}
                readOnly={!editable}
                error={error("repeat_minutes")}
              />
              <NumberInput
                label="Cool-down (minutes)"
                description="No second notice of the same kind about a server within this time."
                value={cooldown}
                onChange={setCooldown}
                min={0}
                max={1440}
                allowDecimal={false}
                readOnly={!editable}
                error={error("cooldown_minutes")}
              />
            </SimpleGrid>
          </Stack>
        </Card>
        {save.isError &&
        !onlyFieldErrors(save.error, ["unhealthy", "degraded", "repeat_minutes", "cooldown_minutes"]) ? (
          <WriteError error={save.error} title="The policy was not saved" />
        ) : null}
        {editable ? <SaveBar loading={save.isPending} label="Save policy" /> : null}
      </Stack>
    </form>
  );
}
