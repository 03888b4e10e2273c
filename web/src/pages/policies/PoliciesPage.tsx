import { Accordion, Button, Group, Stack, Tabs, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useSearchParams } from "react-router";

import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import { schemaActions } from "./cedar";
import { CedarCode } from "./CedarCode";
import { useEffectivePolicy, type EffectivePolicy } from "./data";
import { DryRunForm } from "./DryRunForm";
import { PolicyCompare } from "./PolicyCompare";
import { PolicyEditor } from "./PolicyEditor";
import { PRIMARY } from "./tone";
import { useAuthorName, VersionHistory } from "./VersionHistory";

const TABS = ["current", "history", "compare", "dry-run"] as const;
type Tab = (typeof TABS)[number];

/** Stories 3.2 and 8.2: the organization's Cedar policies, their versions, and dry-runs. */
export default function PoliciesPage() {
  const policy = useEffectivePolicy();
  return (
    <>
      <PageHeader
        title="Policies"
        description="Cedar policies narrow what roles allow: by time, environment, tag, capability or role."
      />
      <QueryState query={policy} label="Loading the policies">
        {(data) => <Policies policy={data} />}
      </QueryState>
    </>
  );
}

function Policies({ policy }: { policy: EffectivePolicy }) {
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const raw = params.get("tab");
  const tab: Tab = TABS.includes(raw as Tab) ? (raw as Tab) : "current";
  const current = policy.version;
  const from = Number(params.get("from")) || Math.max(1, current - 1);
  const to = Number(params.get("to")) || current;

  const show = (next: Tab, extra: Record<string, string> = {}) =>
    setParams(
      (old) => {
        const p = new URLSearchParams(old);
        p.set("tab", next);
        for (const [k, v] of Object.entries(extra)) p.set(k, v);
        return p;
      },
      { replace: next === tab },
    );
  const actions = schemaActions(policy.schema_text);

  return (
    <Tabs value={tab} onChange={(v) => show((v as Tab | null) ?? "current")} keepMounted={false}>
      <Tabs.List mb="md">
        <Tabs.Tab value="current">Current policy</Tabs.Tab>
        <Tabs.Tab value="history">History</Tabs.Tab>
        <Tabs.Tab value="compare">Compare versions</Tabs.Tab>
        <Tabs.Tab value="dry-run">Dry-run</Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="current">
        <CurrentPolicy policy={policy} />
      </Tabs.Panel>
      <Tabs.Panel value="history">
        <VersionHistory
          current={current}
          onCompare={(a, b) => show("compare", { from: String(a), to: String(b) })}
        />
      </Tabs.Panel>
      <Tabs.Panel value="compare">
        <PolicyCompare
          current={current}
          from={Math.min(from, current)}
          to={Math.min(to, current)}
          onChange={(a, b) => show("compare", { from: String(a), to: String(b) })}
        />
      </Tabs.Panel>
      <Tabs.Panel value="dry-run">
        <DryRunForm actions={actions.length ? actions : me.permissions} />
      </Tabs.Panel>
    </Tabs>
  );
}

function CurrentPolicy({ policy }: { policy: EffectivePolicy }) {
  const { can } = useSession();
  const [editing, setEditing] = useState(false);
  const author = useAuthorName();
  const version = policy.current;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={2} size="h4">
            {version ? `Version ${version.version}` : "No policy published"}
          </Title>
          <Text size="sm" c="dimmed" data-testid="current-version">
            {version
              ? `Published ${formatDate(version.created_at)} by ${author(version.created_by_user_id)}${version.comment ? ` — ${version.comment}` : ""}`
              : "Only the base rules apply."}
          </Text>
        </div>
        {can("policies:write") && !editing ? (
          <Button color={PRIMARY} onClick={() => setEditing(true)}>{version ? "Edit policy" : "Write a policy"}</Button>
        ) : null}
      </Group>
      {editing ? (
        <PolicyEditor initial={policy.org_policies} onDone={() => setEditing(false)} />
      ) : policy.org_policies.trim() ? (
        <CedarCode text={policy.org_policies} label={`Policy version ${policy.version}`} testId="policy-text" />
      ) : (
        <EmptyState>
          This organization has no policies of its own: roles and the base rules decide.
        </EmptyState>
      )}
      <Accordion variant="separated">
        <Accordion.Item value="base">
          <Accordion.Control>Base rules (always in force)</Accordion.Control>
          <Accordion.Panel>
            <CedarCode text={policy.base_policies} label="Base rules" />
          </Accordion.Panel>
        </Accordion.Item>
        <Accordion.Item value="schema">
          <Accordion.Control>Schema: what a policy can refer to</Accordion.Control>
          <Accordion.Panel>
            <CedarCode text={policy.schema_text} label="Cedar schema" />
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
    </Stack>
  );
}
