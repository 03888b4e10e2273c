import { Autocomplete, Button, Group, Select, SimpleGrid, Stack, TagsInput, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";

import { hasFilters, SORT_LABELS, type Filters, type Sort } from "./filters";
import { HEALTH_LABELS, options, STATUS_LABELS } from "./labels";
import "./servers.css";
import { ENVIRONMENT_PATTERN, ENVIRONMENTS, tagsProblem } from "./validation";

const DEBOUNCE_MS = 300;

/** Typed text that reaches the filters once typing pauses; a change from outside wins. */
function useTyped(value: string, commit: (value: string) => void): [string, (v: string) => void] {
  const [text, setText] = useState(value);
  const [settled] = useDebouncedValue(text, DEBOUNCE_MS);
  useEffect(() => {
    if (settled !== value) commit(settled);
    // Only a pause in typing commits.
  }, [settled]);
  useEffect(() => {
    if (value !== settled) setText(value);
    // Only a change from outside (clear filters, back button) resets the text.
  }, [value]);
  return [text, setText];
}

export function ServerFilters({
  filters,
  onChange,
}: {
  filters: Filters;
  onChange: (filters: Filters) => void;
}) {
  const set = <K extends keyof Filters>(key: K, value: Filters[K]) => onChange({ ...filters, [key]: value });
  const [search, setSearch] = useTyped(filters.q, (q) => set("q", q));
  const [environment, setEnvironment] = useTyped(filters.environment, (e) => set("environment", e));
  const environmentError =
    environment && !ENVIRONMENT_PATTERN.test(environment)
      ? "Lowercase letters, digits and hyphens"
      : null;
  return (
    <Stack gap="xs" mb="md" role="search" aria-label="Filter servers" className="sc-servers-fields">
      <SimpleGrid cols={{ base: 1, xs: 2, md: 3, xl: 6 }} spacing="sm" verticalSpacing="xs">
      <TextInput
        label="Search"
        placeholder="Name or description"
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        maxLength={200}
        type="search"
      />
      <Autocomplete
        label="Environment"
        placeholder="Any environment"
        data={ENVIRONMENTS}
        value={environment}
        onChange={setEnvironment}
        error={environmentError}
      />
      <Select
        label="Status"
        placeholder="Any status"
        data={options(STATUS_LABELS)}
        value={filters.status || null}
        onChange={(v) => set("status", (v ?? "") as Filters["status"])}
        clearable
      />
      <Select
        label="Health"
        placeholder="Any health"
        data={options(HEALTH_LABELS)}
        value={filters.health || null}
        onChange={(v) => set("health", (v ?? "") as Filters["health"])}
        clearable
      />
      <TagsInput
        label="Tags"
        placeholder={filters.tags.length ? "" : "All of these tags"}
        value={filters.tags}
        onChange={(v) => set("tags", [...new Set(v.map((t) => t.trim().toLowerCase()).filter(Boolean))])}
        error={tagsProblem(filters.tags)}
      />
      <Select
        label="Sort"
        data={options(SORT_LABELS)}
        value={filters.sort}
        onChange={(v) => v && set("sort", v as Sort)}
        allowDeselect={false}
      />
      </SimpleGrid>
      {hasFilters(filters) ? (
        <Group justify="flex-end">
          <Button
            variant="subtle"
            size="compact-sm"
            onClick={() => onChange({ q: "", environment: "", status: "", health: "", tags: [], sort: filters.sort })}
          >
            Clear filters
          </Button>
        </Group>
      ) : null}
    </Stack>
  );
}
