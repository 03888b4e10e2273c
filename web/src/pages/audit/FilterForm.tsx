import { Button, Group, Paper, Select, SimpleGrid, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";

import type { ProblemError } from "../../api/problem";
import {
  filtersOfForm,
  formOf,
  offsetOf,
  validate,
  type FormErrors,
  type FormValues,
  type Filters,
} from "./filters";

const OUTCOMES = [
  { value: "", label: "Any outcome" },
  { value: "success", label: "Success" },
  { value: "failure", label: "Failure (refused or failed)" },
];

/** The filters of the audit log, applied together when the form is sent. */
export function FilterForm({
  filters,
  serverError,
  onApply,
  onClear,
}: {
  filters: Filters;
  serverError?: ProblemError;
  onApply: (filters: Filters) => void;
  onClear: () => void;
}) {
  const [form, setForm] = useState<FormValues>(() => formOf(filters));
  const [errors, setErrors] = useState<FormErrors>({});
  const zones = [
    { value: "local", label: `Your time zone (UTC${offsetOf(new Date())})` },
    { value: "utc", label: "UTC" },
  ];

  const set = <K extends keyof FormValues>(name: K) => (value: FormValues[K]) =>
    setForm((f) => ({ ...f, [name]: value }));
  const error = (name: keyof FormValues) => errors[name] ?? serverError?.fieldMessage(name);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validate(form);
    setErrors(found);
    if (Object.keys(found).length === 0) onApply(filtersOfForm(form));
  };

  return (
    <Paper withBorder p="sm" component="form" onSubmit={submit} aria-label="Filter the audit log">
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }} spacing="sm" verticalSpacing="xs">
        <TextInput
          label="Search"
          description="Words in the details, or an entry, request, target or actor id"
          placeholder='e.g. weather-eu or "deploy key"'
          value={form.q}
          onChange={(e) => set("q")(e.currentTarget.value)}
          error={error("q")}
        />
        <TextInput
          label="Action"
          description="A tag, or a prefix ending in : or *"
          placeholder="org:server:"
          value={form.action}
          onChange={(e) => set("action")(e.currentTarget.value)}
          error={error("action")}
        />
        <TextInput
          label="Actor id"
          description="A user's id also finds their API keys' actions"
          value={form.actor_id}
          onChange={(e) => set("actor_id")(e.currentTarget.value)}
          error={error("actor_id")}
        />
        <Select
          label="Outcome"
          description="Failures include refused sign-ins"
          data={OUTCOMES}
          value={form.outcome}
          onChange={(v) => set("outcome")(v ?? "")}
          allowDeselect={false}
        />
        <TextInput
          label="Target type"
          placeholder="mcp_server"
          value={form.target_type}
          onChange={(e) => set("target_type")(e.currentTarget.value)}
          error={error("target_type")}
        />
        <TextInput
          label="Target id"
          value={form.target_id}
          onChange={(e) => set("target_id")(e.currentTarget.value)}
          error={error("target_id")}
        />
        <TextInput
          type="datetime-local"
          label="From"
          value={form.from}
          onChange={(e) => set("from")(e.currentTarget.value)}
          error={error("from")}
        />
        <TextInput
          type="datetime-local"
          label="To (not included)"
          value={form.to}
          onChange={(e) => set("to")(e.currentTarget.value)}
          error={error("to")}
        />
        <Select
          label="Dates are in"
          data={zones}
          value={form.zone}
          onChange={(v) => set("zone")(v === "utc" ? "utc" : "local")}
          allowDeselect={false}
        />
      </SimpleGrid>
      <Group mt="sm" gap="xs">
        <Button type="submit">
          Apply filters
        </Button>
        <Button variant="default" onClick={onClear}>
          Clear
        </Button>
      </Group>
    </Paper>
  );
}
