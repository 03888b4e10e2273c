import { Button, Group, NumberInput, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { withoutFields } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { MemberFields } from "./MemberFields";
import {
  blankMember,
  hasErrors,
  merge,
  serverErrors,
  validate,
  type MemberValues,
  type ToolsetValues,
} from "./values";

/** The fields of a toolset, for creating one and for changing it (its name then stays). */
export function ToolsetForm({
  initial,
  editing = false,
  submitLabel,
  pending,
  error,
  onSubmit,
  onEdit,
  onCancel,
}: {
  initial: ToolsetValues;
  editing?: boolean;
  submitLabel: string;
  pending?: boolean;
  error?: unknown;
  onSubmit: (values: ToolsetValues) => void;
  onEdit?: () => void; // a change makes the API's answer to the last attempt stale
  onCancel: () => void;
}) {
  const [values, setValues] = useState<ToolsetValues>(initial);
  const [submitted, setSubmitted] = useState(false);

  const own = validate(values, { checkName: !editing });
  const fromApi = serverErrors(error, values.servers.length);
  // Checked as typed: a name from its first character, the rest once there is something to check
  // or the form was sent.
  const shown = {
    ...own,
    name: values.name || submitted ? own.name : undefined,
    servers: own.servers.map((m) =>
      submitted ? m : { ...m, server_id: undefined, tools: undefined },
    ),
  };
  const errors = merge(shown, fromApi);

  const change = (next: Partial<ToolsetValues>) => {
    setValues((v) => ({ ...v, ...next }));
    onEdit?.();
  };
  const setMember = (index: number, member: MemberValues) =>
    change({ servers: values.servers.map((m, i) => (i === index ? member : m)) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (hasErrors(own)) return;
    onSubmit(values);
  };

  return (
    <form onSubmit={submit} noValidate aria-label={submitLabel}>
      <Stack gap="md">
        {error ? (
          <ProblemAlert
            error={fromApi.mapped ? withoutFields(error) : error}
            title="The toolset was not saved"
          />
        ) : null}
        <TextInput
          label="Name"
          description={
            editing
              ? "The name is part of the endpoint's address, so it does not change."
              : "Part of the endpoint's address: lowercase letters, digits and dashes, starting with a letter or digit (at most 63)."
          }
          placeholder="support-agent"
          required={!editing}
          disabled={editing}
          value={values.name}
          onChange={(e) => change({ name: e.currentTarget.value })}
          error={errors.name}
          autoComplete="off"
          spellCheck={false}
          data-autofocus
        />
        <Textarea
          label="Description"
          description="Who or what the toolset is for."
          autosize
          minRows={2}
          value={values.description}
          onChange={(e) => change({ description: e.currentTarget.value })}
          error={errors.description}
        />
        <NumberInput
          label="Timeout (seconds)"
          description="How long one tool call may take upstream. Empty: the platform's default."
          placeholder="default"
          min={0}
          max={3600}
          allowNegative={false}
          value={values.timeout}
          onChange={(v) => change({ timeout: String(v) })}
          error={errors.timeout}
          maw={260}
        />
        <Stack gap="xs">
          <Title order={2} size="h4">
            Servers
          </Title>
          <Text size="sm" c="dimmed">
            Every tool of these servers that you choose is served by the toolset's endpoint. When
            two servers have a tool of the same name, give one of them a prefix or rename the tool.
          </Text>
          {values.servers.length === 0 ? (
            <Text size="sm" data-testid="no-members">
              No servers yet: the toolset serves no tools until you add one.
            </Text>
          ) : null}
          {values.servers.map((member, index) => (
            <MemberFields
              key={member.key}
              index={index}
              member={member}
              taken={
                new Set(
                  values.servers
                    .filter((m, i) => i !== index && m.server_id)
                    .map((m) => m.server_id as string),
                )
              }
              errors={errors.servers[index] ?? { rename: {}, other: [] }}
              onChange={(m) => setMember(index, m)}
              onRemove={() => change({ servers: values.servers.filter((_, i) => i !== index) })}
            />
          ))}
          <Group>
            <Button
              variant="default"
              onClick={() => change({ servers: [...values.servers, blankMember()] })}
            >
              Add a server
            </Button>
          </Group>
        </Stack>
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
