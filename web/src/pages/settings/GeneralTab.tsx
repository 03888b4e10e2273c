import { Card, Group, NumberInput, Select, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMemo, useState, type FormEvent } from "react";

import { useSession } from "../../auth/session";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import {
  fieldError,
  onlyFieldErrors,
  saved,
  SaveBar,
  useOrganization,
  useUpdateOrganization,
  WriteError,
  type Organization,
  type OrganizationUpdate,
} from "./common";
import { GatewayLimitsCard } from "./GatewayLimitsCard";

const FIELDS = ["name", "time_zone", "health_failure_threshold", "health_degraded_after_seconds"];

/** The IANA zones this browser knows, with the organization's own zone kept in any case. */
export function timeZones(current?: string): string[] {
  let zones: string[] = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    zones = [];
  }
  const all = new Set(zones);
  all.add("UTC");
  if (current) all.add(current);
  return [...all].sort((a, b) => a.localeCompare(b));
}

export function GeneralTab() {
  const query = useOrganization();
  return (
    <QueryState query={query} label="Loading the organization">
      {(org) => <GeneralForm org={org} />}
    </QueryState>
  );
}

function GeneralForm({ org }: { org: Organization }) {
  const { can } = useSession();
  const editable = can("org:write");
  const update = useUpdateOrganization();
  const [name, setName] = useState(org.name);
  const [zone, setZone] = useState<string | null>(org.time_zone);
  const [failures, setFailures] = useState<string | number>(org.health_failure_threshold);
  const [degradedAfter, setDegradedAfter] = useState<string | number>(
    org.health_degraded_after_seconds,
  );
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const zones = useMemo(() => timeZones(org.time_zone), [org.time_zone]);

  const changes: OrganizationUpdate = {};
  if (name.trim() !== org.name) changes.name = name.trim();
  if (zone && zone !== org.time_zone) changes.time_zone = zone;
  if (Number(failures) !== org.health_failure_threshold) {
    changes.health_failure_threshold = Number(failures);
  }
  if (Number(degradedAfter) !== org.health_degraded_after_seconds) {
    changes.health_degraded_after_seconds = Number(degradedAfter);
  }
  const dirty = Object.keys(changes).length > 0;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const errors: Record<string, string> = {};
    if (!name.trim()) errors.name = "Enter the organization's name.";
    if (!zone) errors.time_zone = "Choose a time zone.";
    if (failures === "" || Number(failures) < 1) {
      errors.health_failure_threshold = "At least 1 check.";
    }
    if (degradedAfter === "" || Number(degradedAfter) < 1) {
      errors.health_degraded_after_seconds = "At least 1 second.";
    }
    setLocalErrors(errors);
    if (Object.keys(errors).length || !dirty) return;
    update.mutate(changes, { onSuccess: () => saved("Organization settings saved") });
  };

  const error = (field: string) => localErrors[field] ?? fieldError(update.error, field);

  return (
    <Stack gap="lg">
      <form onSubmit={submit} noValidate aria-label="General settings">
        <Stack gap="md">
          <Card withBorder padding="lg">
            <Title order={2} size="h4" mb="sm">
              Organization
            </Title>
            <Stack gap="sm">
              <TextInput
                label="Name"
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                readOnly={!editable}
                required
                maxLength={200}
                error={error("name")}
              />
              <TextInput label="Slug" value={org.slug} readOnly description="Used in sign-in links; it does not change." />
              <Select
                label="Time zone"
                description="Time windows in policies are read in this zone."
                data={zones}
                value={zone}
                onChange={setZone}
                searchable
                allowDeselect={false}
                nothingFoundMessage="No time zone by that name"
                readOnly={!editable}
                error={error("time_zone")}
                maxDropdownHeight={280}
                data-testid="time-zone"
              />
            </Stack>
          </Card>
          <Card withBorder padding="lg">
            <Title order={2} size="h4" mb={4}>
              Health escalation thresholds
            </Title>
            <Text size="sm" c="dimmed" mb="sm">
              When a server counts as degraded. Servers may override these.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <NumberInput
                label="Failed checks before degraded"
                value={failures}
                onChange={setFailures}
                min={1}
                max={1000}
                allowDecimal={false}
                readOnly={!editable}
                error={error("health_failure_threshold")}
              />
              <NumberInput
                label="Seconds unhealthy before degraded"
                value={degradedAfter}
                onChange={setDegradedAfter}
                min={1}
                max={30 * 86_400}
                allowDecimal={false}
                readOnly={!editable}
                error={error("health_degraded_after_seconds")}
              />
            </SimpleGrid>
          </Card>
          {update.isError && !onlyFieldErrors(update.error, FIELDS) ? (
            <WriteError error={update.error} title="The settings were not saved" />
          ) : null}
          {editable ? <SaveBar loading={update.isPending} disabled={!dirty} /> : null}
        </Stack>
      </form>
      <GatewayLimitsCard org={org} />
      <Card withBorder padding="lg" aria-labelledby="limits-title">
        <Title order={2} size="h4" id="limits-title" mb={4}>
          Limits
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          Set by the platform operator.
        </Text>
        <Stack gap={6}>
          <Limit
            label="Server quota"
            value={org.server_quota === null ? "Platform default" : `${org.server_quota} servers`}
            testId="server-quota"
          />
          <Limit
            label="Shortest health check interval"
            value={`${org.health_min_interval_seconds} seconds`}
          />
          <Limit label="Created" value={formatDate(org.created_at)} />
        </Stack>
      </Card>
    </Stack>
  );
}

function Limit({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start">
      <Text size="sm" c="dimmed" w={{ base: 130, sm: 220 }} style={{ flexShrink: 0 }}>
        {label}
      </Text>
      <Text size="sm" data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}
