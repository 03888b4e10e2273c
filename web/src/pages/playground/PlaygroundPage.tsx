import {
  Anchor,
  Button,
  Card,
  Grid,
  Group,
  JsonInput,
  Loader,
  Progress,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { onSessionEnded } from "../../api/client";
import { ProblemError } from "../../api/problem";
import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { EmptyState } from "../../components/QueryState";
import { useCapabilities, useServerChoices, type CallRow, type CapabilityItem } from "./data";
import { History } from "./History";
import type { Kind } from "./invoke";
import { CallProblem, ResultView } from "./ResultView";
import { SchemaForm } from "./SchemaForm";
import { argumentErrors, isObject, promptSchema, type Json } from "./schema";
import { findKept, forgetAll, forgetOtherSessions } from "./storage";
import { useCall } from "./useCall";

const KINDS: { value: Kind; label: string }[] = [
  { value: "tool", label: "Tool" },
  { value: "prompt", label: "Prompt" },
  { value: "resource", label: "Resource" },
];
const NOUN: Record<Kind, string> = { tool: "tool", prompt: "prompt", resource: "resource" };

/** Issue 16: call a server's tools, get its prompts, read its resources, with your rights. */
export default function PlaygroundPage() {
  const { session } = useSession();
  const sessionId = session.session_id;
  const [params, setParams] = useSearchParams();
  const serverId = params.get("server");
  const kind: Kind = params.has("prompt") ? "prompt" : params.has("resource") ? "resource" : "tool";
  const name = params.get(kind) ?? "";

  const [args, setArgs] = useState<unknown>({});
  const [mode, setMode] = useState<"form" | "json">("form");
  const [jsonText, setJsonText] = useState("{}");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [refilled, setRefilled] = useState<string | null>(null);
  const call = useCall(sessionId);

  useEffect(() => {
    forgetOtherSessions(sessionId);
    return onSessionEnded(() => forgetAll());
  }, [sessionId]);

  const select = (next: { server?: string | null; kind?: Kind; name?: string | null }, keep?: unknown) => {
    const query = new URLSearchParams();
    const server = next.server === undefined ? serverId : next.server;
    const k = next.kind ?? kind;
    const n = next.name === undefined ? name : next.name;
    if (server) query.set("server", server);
    if (server && n) query.set(k, n);
    else if (k !== "tool") query.set(k, "");
    setParams(query, { replace: true });
    const fresh = keep !== undefined ? keep : {};
    setArgs(fresh);
    setJsonText(JSON.stringify(fresh, null, 2));
    setJsonError(null);
    setRefilled(null);
    call.reset();
  };

  const servers = useServerChoices("", null);
  const serverName = (id: string | null) =>
    servers.items.find((s) => s.id === id)?.name ?? (id ? `${id.slice(0, 8)}…` : "—");

  const pickFromHistory = (row: CallRow) => {
    const kept = findKept(sessionId, row);
    const k = (["tool", "prompt", "resource"] as const).find((x) => x === row.kind) ?? "tool";
    select({ server: row.server_id, kind: k, name: row.name }, kept ? kept.arguments : undefined);
    setRefilled(
      kept
        ? `The arguments of that call are filled in.`
        : `This tab did not keep the arguments of that call: fill them in again.`,
    );
  };

  return (
    <>
      <PageHeader
        title="Playground"
        description="Call a server's tools, get its prompts and read its resources, as yourself: your permissions and your organization's policies apply, and every call is audited and measured."
      />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack gap="md">
            <Card withBorder padding="md" component="section" aria-labelledby="target-title">
              <Stack gap="sm">
                <Title order={2} size="h4" id="target-title">
                  What to call
                </Title>
                <ServerPicker value={serverId} onChange={(id) => select({ server: id, name: null })} />
                <Stack gap={4}>
                  <Text size="sm" fw={500} id="kind-label">
                    Kind
                  </Text>
                  <SegmentedControl
                    aria-labelledby="kind-label"
                    data={KINDS}
                    value={kind}
                    onChange={(v) => select({ kind: v as Kind, name: null })}
                    maw={420}
                  />
                </Stack>
                {serverId ? (
                  <CapabilityPicker serverId={serverId} kind={kind} name={name} onChange={(n) => select({ name: n })} />
                ) : (
                  <Text size="sm" c="dimmed">
                    Pick a server to see its {NOUN[kind]}s.
                  </Text>
                )}
              </Stack>
            </Card>
            {serverId && name ? (
              <CallCard
                key={`${serverId}|${kind}|${name}`}
                serverId={serverId}
                kind={kind}
                name={name}
                args={args}
                setArgs={(next) => {
                  setArgs(next);
                  setJsonText(JSON.stringify(next, null, 2));
                }}
                mode={mode}
                setMode={setMode}
                jsonText={jsonText}
                setJsonText={setJsonText}
                jsonError={jsonError}
                setJsonError={setJsonError}
                refilled={refilled}
                call={call}
              />
            ) : null}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <History serverName={serverName} onPick={pickFromHistory} />
        </Grid.Col>
      </Grid>
    </>
  );
}

function ServerPicker({ value, onChange }: { value: string | null; onChange: (id: string | null) => void }) {
  const [search, setSearch] = useState("");
  // Labels of every server seen, so that the chosen server's label (which the Select shows as
  // its search text) is not sent as a name filter.
  const labels = useRef(new Map<string, string>());
  const typed = value !== null && labels.current.get(value) === search ? "" : search;
  const [debounced] = useDebouncedValue(typed, 250);
  const chosen = useServerChoices(debounced, value);
  const data = chosen.items.map((s) => ({ value: s.id, label: `${s.name} (${s.environment})` }));
  for (const d of data) labels.current.set(d.value, d.label);
  return (
    <Stack gap={4}>
      <Select
        label="Server"
        placeholder="Search servers by name"
        data={data}
        value={value}
        onChange={(v) => onChange(v)}
        searchable
        searchValue={search}
        onSearchChange={setSearch}
        filter={({ options }) => options}
        nothingFoundMessage={chosen.list.isFetching ? "Searching…" : "No server by that name"}
        rightSection={chosen.list.isFetching ? <Loader size={14} aria-hidden /> : undefined}
        allowDeselect={false}
        maw={520}
        data-testid="server-select"
      />
      {chosen.list.isError ? <ProblemAlert error={chosen.list.error} title="The servers could not be listed" /> : null}
      {chosen.list.isSuccess && !chosen.list.data.items.length && !debounced ? (
        <Text size="sm" c="dimmed">
          No servers yet: <Anchor component={Link} to="/servers">register one</Anchor> first.
        </Text>
      ) : null}
    </Stack>
  );
}

function CapabilityPicker({
  serverId,
  kind,
  name,
  onChange,
}: {
  serverId: string;
  kind: Kind;
  name: string;
  onChange: (name: string | null) => void;
}) {
  const query = useCapabilities(serverId);
  if (query.isPending) return <Loader size="sm" role="status" aria-label="Loading capabilities" />;
  if (query.isError) {
    if (query.error instanceof ProblemError && query.error.kind === "snapshot-not-found") {
      return (
        <EmptyState>
          No capabilities yet:{" "}
          <Anchor component={Link} to={`/servers/${serverId}`}>
            discover this server's capabilities
          </Anchor>{" "}
          first.
        </EmptyState>
      );
    }
    return <ProblemAlert error={query.error} title="The capabilities could not be loaded" />;
  }
  const items = query.data.items.filter((i) => i.kind === kind || (kind === "resource" && i.kind === "resource_template"));
  if (!items.length) return <Text size="sm" c="dimmed">This server listed no {NOUN[kind]}s.</Text>;
  const label = kind === "tool" ? "Tool" : kind === "prompt" ? "Prompt" : "Resource";
  const options = items.map((i) => {
    const d = i.definition as Json;
    const value = i.kind === "resource_template" && typeof d.uriTemplate === "string" ? d.uriTemplate : i.name;
    return { value, label: i.title ? `${i.name} — ${i.title}` : value };
  });
  const chosen = items.find((i) => i.name === name);
  const known = options.some((o) => o.value === name);
  return (
    <Stack gap="xs">
      <Select
        label={label}
        placeholder={`Search ${NOUN[kind]}s`}
        data={known || !name ? options : [...options, { value: name, label: name }]}
        value={name || null}
        onChange={(v) => onChange(v)}
        searchable
        allowDeselect={false}
        nothingFoundMessage={`No ${NOUN[kind]} by that name`}
        maw={520}
        data-testid="capability-select"
      />
      {chosen?.description ? (
        <Text size="sm" style={{ whiteSpace: "pre-wrap" }} data-testid="capability-description">
          {chosen.description}
        </Text>
      ) : null}
      {name && !known ? (
        <Text size="sm" c="var(--mantine-color-error)">
          The latest snapshot has no {NOUN[kind]} {name}.
        </Text>
      ) : null}
    </Stack>
  );
}

function CallCard({
  serverId,
  kind,
  name,
  args,
  setArgs,
  mode,
  setMode,
  jsonText,
  setJsonText,
  jsonError,
  setJsonError,
  refilled,
  call,
}: {
  serverId: string;
  kind: Kind;
  name: string;
  args: unknown;
  setArgs: (next: unknown) => void;
  mode: "form" | "json";
  setMode: (m: "form" | "json") => void;
  jsonText: string;
  setJsonText: (t: string) => void;
  jsonError: string | null;
  setJsonError: (e: string | null) => void;
  refilled: string | null;
  call: ReturnType<typeof useCall>;
}) {
  const capabilities = useCapabilities(serverId);
  const item: CapabilityItem | undefined = capabilities.data?.items.find((i) => i.name === name && i.kind === kind);
  const schema: Json = useMemo(() => {
    const d = (item?.definition ?? {}) as Json;
    if (kind === "prompt") return promptSchema(d.arguments);
    if (kind === "tool" && isObject(d.inputSchema)) return d.inputSchema;
    return { type: "object", properties: {} };
  }, [item, kind]);
  const [uri, setUri] = useState(name);
  const { state } = call;
  const running = state.phase === "running";
  const errors = useMemo(() => argumentErrors(state.error), [state.error]);

  const switchMode = (next: "form" | "json") => {
    if (next === mode) return;
    if (next === "json") {
      setJsonText(JSON.stringify(args, null, 2));
      setJsonError(null);
      setMode("json");
      return;
    }
    const parsed = parseArguments(jsonText);
    if (typeof parsed === "string") {
      setJsonError(parsed);
      return;
    }
    setArgs(parsed);
    setMode("form");
  };

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (running) return;
    let value = args;
    if (mode === "json" && kind !== "resource") {
      const parsed = parseArguments(jsonText);
      if (typeof parsed === "string") {
        setJsonError(parsed);
        return;
      }
      value = parsed;
      setArgs(parsed);
    }
    void call.run({
      kind,
      serverId,
      name: kind === "resource" ? uri.trim() || name : name,
      arguments: kind === "resource" ? {} : (value as Record<string, unknown>),
    });
  };

  const verb = kind === "tool" ? "Run" : kind === "prompt" ? "Get prompt" : "Read resource";
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="call-title">
      <form onSubmit={submit} onKeyDown={(e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(e);
      }} noValidate>
        <Stack gap="sm">
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Title order={2} size="h4" id="call-title">
              {kind === "resource" ? "Resource" : "Arguments"}
            </Title>
            {kind !== "resource" ? (
              <SegmentedControl
                aria-label="Edit the arguments as"
                size="xs"
                data={[
                  { value: "form", label: "Form" },
                  { value: "json", label: "JSON" },
                ]}
                value={mode}
                onChange={(v) => switchMode(v === "json" ? "json" : "form")}
              />
            ) : null}
          </Group>
          {refilled ? (
            <Text size="sm" c="dimmed" data-testid="refilled">
              {refilled}
            </Text>
          ) : null}
          {kind === "resource" ? (
            <TextInput
              label="URI"
              description="For a resource template, fill in its parameters."
              value={uri}
              onChange={(e) => setUri(e.currentTarget.value)}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
            />
          ) : mode === "form" ? (
            <SchemaForm schema={schema} value={args} onChange={setArgs} errors={errors} />
          ) : (
            <JsonInput
              label="Arguments (JSON)"
              description="An object; Ctrl+Enter runs the call."
              value={jsonText}
              onChange={(t) => {
                setJsonText(t);
                setJsonError(null);
              }}
              error={jsonError}
              autosize
              minRows={6}
              maxRows={24}
              formatOnBlur
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
              data-testid="arguments-json"
            />
          )}
          <Group gap="xs">
            <Button type="submit" loading={running} disabled={running}>
              {verb}
            </Button>
            {running ? (
              <Button variant="default" onClick={call.cancel}>
                Cancel
              </Button>
            ) : null}
          </Group>
          {running ? <Running progress={state.progress} /> : null}
        </Stack>
      </form>
      <Stack gap="sm" mt={state.phase === "idle" || running ? 0 : "md"} aria-live="polite">
        {state.phase === "cancelled" ? (
          <Text size="sm" data-testid="call-cancelled">
            Cancelled: the call was stopped on the server too.
          </Text>
        ) : null}
        {state.phase === "failed" ? <CallProblem error={state.error} fieldsShown={mode === "form" && errors.size > 0} /> : null}
        {state.phase === "done" && state.invocation ? (
          <>
            <Title order={2} size="h4">
              Result
            </Title>
            <ResultView invocation={state.invocation} />
          </>
        ) : null}
      </Stack>
    </Card>
  );
}

function Running({ progress }: { progress: { progress: number; total: number | null; message: string | null } | null }) {
  const share = progress?.total ? Math.min(100, (progress.progress / progress.total) * 100) : null;
  return (
    <Stack gap={4} data-testid="call-progress">
      <Progress
        value={share ?? 100}
        animated={share === null}
        striped={share === null}
        aria-label="Progress of the call"
        size="lg"
      />
      <Text size="sm" role="status">
        {progress
          ? `${progress.message ? `${progress.message} · ` : ""}${progress.progress}${progress.total ? ` of ${progress.total}` : ""}`
          : "Running…"}
      </Text>
    </Stack>
  );
}

/** The arguments object from JSON text, or what is wrong with it. */
function parseArguments(text: string): Record<string, unknown> | string {
  if (!text.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? parsed : "The arguments must be a JSON object: { … }";
  } catch (e) {
    return `Not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
}
