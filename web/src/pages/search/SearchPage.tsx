import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Input,
  NativeSelect,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import {
  keepPreviousData,
  useInfiniteQuery,
  type InfiniteData,
  type UseInfiniteQueryResult,
} from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";

import { api, unwrap } from "../../api/client";
import type { components, operations } from "../../api/schema";
import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { EmptyState } from "../../components/QueryState";
import { fieldMessages, withoutFields } from "../../api/problem";

type SearchResult = components["schemas"]["SearchResult"];
type Matched = components["schemas"]["MatchedCapability"];
type SearchAnswer = components["schemas"]["SearchPage"];
type SearchQuery = NonNullable<
  operations["search_servers_api_v1_discovery_servers_get"]["parameters"]["query"]
>;

export const MATCH_MODES = [
  { value: "words", label: "Related words", help: "Names holding the words (get_weather_forecast holds weather), and descriptions about them." },
  { value: "exact", label: "Exact name", help: "Capabilities named exactly this, case included." },
  { value: "fuzzy", label: "Fuzzy", help: "Also parts of names and small typos (wether finds weather)." },
] as const;
type MatchMode = (typeof MATCH_MODES)[number]["value"];

const KINDS = [
  { value: "tool", label: "Tools" },
  { value: "resource", label: "Resources" },
  { value: "resource_template", label: "Resource templates" },
  { value: "prompt", label: "Prompts" },
];
const STATUSES = [
  { value: "", label: "Any status" },
  { value: "active", label: "Active" },
  { value: "pending_discovery", label: "Pending discovery" },
  { value: "discovery_failed", label: "Discovery failed" },
];
const HEALTHS = [
  { value: "", label: "Any health" },
  { value: "healthy", label: "Healthy" },
  { value: "degraded", label: "Degraded" },
  { value: "unhealthy", label: "Unhealthy" },
  { value: "unknown", label: "Not checked yet" },
];
const HEALTH_COLOR: Record<string, string> = {
  healthy: "green",
  degraded: "yellow",
  unhealthy: "red",
  unknown: "gray",
};
const DEBOUNCE_MS = 300;

/** A text kept in the URL (`?key=`), written there once typing pauses. */
function useUrlText(key: string): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const inUrl = params.get(key) ?? "";
  const [text, setText] = useState(inUrl);
  const [settled] = useDebouncedValue(text, DEBOUNCE_MS);
  useEffect(() => {
    if (settled.trim() === inUrl) return;
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        if (settled.trim()) next.set(key, settled.trim());
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
    // Only a settled change of the text writes the URL.
  }, [settled]);
  // Back and forward (or a shared link) change the URL: the box follows.
  useEffect(() => {
    setText((current) => (current.trim() === inUrl ? current : inUrl));
  }, [inUrl]);
  return [text, setText];
}

/** Stories 3.1 and 3.2: find servers by capability, as your access rules let you see them. */
export default function SearchPage() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useUrlText("q");
  const [environment, setEnvironment] = useUrlText("environment");
  const [tags, setTags] = useUrlText("tags");

  const rawMatch = params.get("match");
  const match: MatchMode = MATCH_MODES.some((m) => m.value === rawMatch) ? (rawMatch as MatchMode) : "words";
  const kind = params.get("kind") ?? "tool";
  const status = params.get("status") ?? "";
  const health = params.get("health") ?? "";

  const setParam = (key: string, value: string, fallback = "") =>
    setParams(
      (old) => {
        const next = new URLSearchParams(old);
        if (value && value !== fallback) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );

  const query: SearchQuery = {
    ...(params.get("q") ? { capability: params.get("q")! } : {}),
    ...(match !== "words" ? { match } : {}),
    ...(kind !== "tool" ? { kind: kind as SearchQuery["kind"] } : {}),
    ...(params.get("environment") ? { environment: params.get("environment")! } : {}),
    ...(params.get("tags") ? { tags: params.get("tags")! } : {}),
    ...(status ? { status: status as SearchQuery["status"] } : {}),
    ...(health ? { health: health as SearchQuery["health"] } : {}),
  };
  const allowed = can("discovery:read");
  const search = useInfiniteQuery({
    queryKey: ["discovery", "servers", query],
    enabled: allowed,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/discovery/servers", {
          params: { query: { ...query, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? null,
    placeholderData: keepPreviousData,
  });

  const error = search.isError ? search.error : null;
  const fieldError = (name: string) => fieldMessages(error, name)[0];
  const filtered = Boolean(
    query.environment || query.tags || query.status || query.health || kind !== "tool",
  );

  return (
    <>
      <PageHeader
        title="Find servers"
        description="Search the capabilities your servers offer. Results show only what your role and your organization's policies let you see."
      />
      {!allowed ? (
        <Alert color="yellow" variant="light" title="You may not search">
          Searching needs the discovery:read permission, which your roles do not grant.
        </Alert>
      ) : (
        <Stack gap="md">
          <form role="search" onSubmit={(e) => e.preventDefault()}>
            <Stack gap="sm">
              <TextInput
                label="Capabilities"
                description="One or more names, comma-separated: a server must offer all of them. Leave empty to list servers by the filters."
                placeholder="e.g. weather, calendar"
                value={q}
                onChange={(e) => setQ(e.currentTarget.value)}
                error={fieldError("capability")}
                type="search"
                autoComplete="off"
              />
              <Input.Wrapper
                label="Match"
                labelElement="div"
                id="match-mode"
                description={MATCH_MODES.find((m) => m.value === match)?.help}
              >
                <div>
                  <SegmentedControl
                    aria-labelledby="match-mode-label"
                    aria-describedby="match-mode-description"
                    data={MATCH_MODES.map((m) => ({ value: m.value, label: m.label }))}
                    value={match}
                    onChange={(v) => setParam("match", v, "words")}
                    fullWidth
                    maw={480}
                  />
                </div>
              </Input.Wrapper>
              <SimpleGrid cols={{ base: 1, xs: 2, md: 5 }} spacing="sm">
                <NativeSelect
                  label="Kind"
                  data={KINDS}
                  value={kind}
                  onChange={(e) => setParam("kind", e.currentTarget.value, "tool")}
                />
                <TextInput
                  label="Environment"
                  placeholder="any"
                  value={environment}
                  onChange={(e) => setEnvironment(e.currentTarget.value)}
                  error={fieldError("environment")}
                />
                <TextInput
                  label="Tags"
                  placeholder="all of, comma-separated"
                  value={tags}
                  onChange={(e) => setTags(e.currentTarget.value)}
                  error={fieldError("tags")}
                />
                <NativeSelect
                  label="Status"
                  data={STATUSES}
                  value={status}
                  onChange={(e) => setParam("status", e.currentTarget.value)}
                />
                <NativeSelect
                  label="Health"
                  data={HEALTHS}
                  value={health}
                  onChange={(e) => setParam("health", e.currentTarget.value)}
                />
              </SimpleGrid>
            </Stack>
          </form>
          <Results
            search={search}
            term={query.capability}
            filtered={filtered}
            onClear={() => {
              setEnvironment("");
              setTags("");
              setParams(
                (old) => {
                  const next = new URLSearchParams();
                  if (old.get("q")) next.set("q", old.get("q")!);
                  if (old.get("match")) next.set("match", old.get("match")!);
                  return next;
                },
                { replace: true },
              );
            }}
            error={error}
            fieldErrorShown={Boolean(
              fieldError("capability") || fieldError("environment") || fieldError("tags"),
            )}
          />
        </Stack>
      )}
    </>
  );
}

function Results({
  search,
  term,
  filtered,
  onClear,
  error,
  fieldErrorShown,
}: {
  search: UseInfiniteQueryResult<InfiniteData<SearchAnswer, unknown>>;
  term: string | null | undefined;
  filtered: boolean;
  onClear: () => void;
  error: unknown;
  fieldErrorShown: boolean;
}) {
  if (error) {
    return <ProblemAlert error={fieldErrorShown ? withoutFields(error) : error} title="The search failed" />;
  }
  if (search.isPending) {
    return (
      <Text size="sm" c="dimmed" role="status" ta="center" py="lg">
        Searching…
      </Text>
    );
  }
  const pages = search.data?.pages ?? [];
  const meta = pages[0]?.search;
  const items = pages.flatMap((p) => p.items);
  return (
    <Stack gap="sm" aria-busy={search.isFetching}>
      {meta ? (
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Text size="sm" role="status" data-testid="search-summary">
            {meta.total === 1 ? "1 server" : `${meta.total} servers`}
            {term ? ` offer${meta.total === 1 ? "s" : ""} “${term}”` : ""}
            <Text span size="xs" c="dimmed">
              {" "}
              · {Math.round(meta.took_ms)} ms{meta.cached ? " · from cache" : ""}
            </Text>
          </Text>
          {filtered ? (
            <Button size="xs" variant="default" onClick={onClear}>
              Clear filters
            </Button>
          ) : null}
        </Group>
      ) : null}
      {meta && meta.removed_by_policy > 0 ? (
        <Alert color="blue" variant="light" data-testid="hidden-by-policy">
          {meta.removed_by_policy === 1
            ? "1 server hidden by policy."
            : `${meta.removed_by_policy} servers hidden by policy.`}{" "}
          Your role or your organization's policies keep them from you; how many, never which.
        </Alert>
      ) : null}
      {items.length === 0 ? (
        <EmptyState>
          {term
            ? `No server you may see offers a capability matching “${term}”${filtered ? " with these filters" : ""}.`
            : "No server you may see matches these filters."}
        </EmptyState>
      ) : (
        items.map((result) => <ResultCard key={result.server.id} result={result} ranked={Boolean(term)} />)
      )}
      {search.hasNextPage ? (
        <Group justify="center">
          <Button
            variant="default"
            onClick={() => void search.fetchNextPage()}
            loading={search.isFetchingNextPage}
          >
            Show more servers
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}

function ResultCard({ result, ranked }: { result: SearchResult; ranked: boolean }) {
  const { server, health } = result;
  return (
    <Card withBorder padding="md" component="article" aria-labelledby={`result-${server.id}`}>
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
        <Stack gap={4}>
          <Anchor
            component={Link}
            to={`/servers/${server.id}`}
            fw={700}
            c="bright"
            underline="always"
            id={`result-${server.id}`}
            data-testid="result-server"
          >
            {server.name}
          </Anchor>
          {server.description ? (
            <Text size="sm" c="dimmed">
              {server.description}
            </Text>
          ) : null}
        </Stack>
        <Group gap={6} wrap="wrap">
          {ranked ? (
            <Badge variant="default" tt="none">
              score {result.score.toFixed(2)}
            </Badge>
          ) : null}
          <Badge variant="default" tt="none">
            {server.environment}
          </Badge>
          <Badge variant="dot" color={server.status === "active" ? "green" : "gray"} tt="none">
            {server.status.replace("_", " ")}
          </Badge>
          <Badge variant="dot" color={HEALTH_COLOR[health.status] ?? "gray"} tt="none">
            {health.status === "unknown" ? "health not checked" : health.status}
          </Badge>
        </Group>
      </Group>
      {server.tags?.length ? (
        <Group gap={4} mt={6}>
          {server.tags.map((t) => (
            <Badge key={t} size="sm" variant="default" tt="none">
              {t}
            </Badge>
          ))}
        </Group>
      ) : null}
      {result.capabilities.length ? (
        <Stack gap={6} mt="sm" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label={`Matched capabilities of ${server.name}`}>
          {result.capabilities.map((c) => (
            <MatchedRow key={`${c.kind}:${c.name}:${c.matched_term}`} capability={c} />
          ))}
        </Stack>
      ) : null}
    </Card>
  );
}

/** Why a capability matched: the term, on its name or its description, and how well. */
export function whyMatched(c: Matched): string {
  const on = c.matched_on === "name" ? "its name" : "its description";
  return `matches “${c.matched_term}” by ${on}`;
}

function MatchedRow({ capability: c }: { capability: Matched }) {
  return (
    <li>
      <Group gap={8} wrap="wrap" align="baseline">
        <Code>{c.name}</Code>
        <Text size="sm" data-testid="match-reason">
          {whyMatched(c)}
        </Text>
        <Text size="xs" c="dimmed">
          score {c.score.toFixed(2)} · {c.kind.replace("_", " ")} · snapshot v{c.snapshot_version}
        </Text>
      </Group>
      {c.description ? (
        <Text size="sm" c="dimmed" lineClamp={2}>
          {c.description}
        </Text>
      ) : null}
      {c.redacted?.length ? (
        <Text size="xs" c="dimmed">
          Hidden by policy: {c.redacted.join(", ")}
        </Text>
      ) : null}
    </li>
  );
}
