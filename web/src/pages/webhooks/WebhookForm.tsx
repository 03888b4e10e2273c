import { Button, Group, Stack, Switch, TextInput, Textarea } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { ProblemError } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { EventTypePicker } from "./EventTypePicker";

export interface WebhookValues {
  url: string;
  description: string;
  enabled: boolean;
  event_types: string[];
}

export type WebhookErrors = Partial<Record<keyof WebhookValues, string>>;

export function validateWebhook(values: WebhookValues): WebhookErrors {
  const errors: WebhookErrors = {};
  const url = values.url.trim();
  if (!url) errors.url = "Enter the address that receives the events.";
  else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || !["https:", "http:"].includes(parsed.protocol)) {
      errors.url = "An https:// address, like https://hooks.example.com/sprintconnect.";
    } else if (url.length > 2048) errors.url = "At most 2048 characters.";
  }
  if (values.description.length > 500) errors.description = "At most 500 characters.";
  if (values.event_types.length === 0) errors.event_types = "Choose at least one event.";
  return errors;
}

/** The fields of a webhook, for creating one and for changing it. */
export function WebhookForm({
  initial,
  submitLabel,
  showEnabled,
  pending,
  error,
  onSubmit,
  onCancel,
}: {
  initial: WebhookValues;
  submitLabel: string;
  showEnabled?: boolean;
  pending?: boolean;
  error?: unknown;
  onSubmit: (values: WebhookValues) => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState<WebhookValues>(initial);
  const [errors, setErrors] = useState<WebhookErrors>({});
  const problem = error instanceof ProblemError ? error : undefined;
  const fieldError = (name: keyof WebhookValues) => errors[name] ?? problem?.fieldMessage(name);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateWebhook(values);
    setErrors(found);
    if (Object.keys(found).length === 0) onSubmit({ ...values, url: values.url.trim() });
  };

  return (
    <form onSubmit={submit} noValidate aria-label={submitLabel}>
      <Stack gap="sm">
        {error ? <ProblemAlert error={error} title="The webhook was not saved" /> : null}
        <TextInput
          label="URL"
          description="Events are POSTed here, signed with the webhook's secret."
          placeholder="https://hooks.example.com/sprintconnect"
          required
          value={values.url}
          onChange={(e) => {
            const url = e.currentTarget.value;
            setValues((v) => ({ ...v, url }));
          }}
          error={fieldError("url")}
        />
        <Textarea
          label="Description"
          rows={2}
          value={values.description}
          onChange={(e) => {
            const description = e.currentTarget.value;
            setValues((v) => ({ ...v, description }));
          }}
          error={fieldError("description")}
        />
        {showEnabled ? (
          <Switch
            label="Enabled: send events to this webhook"
            checked={values.enabled}
            onChange={(e) => {
              const enabled = e.currentTarget.checked;
              setValues((v) => ({ ...v, enabled }));
            }}
          />
        ) : null}
        <EventTypePicker
          value={values.event_types}
          onChange={(event_types) => setValues((v) => ({ ...v, event_types }))}
          error={fieldError("event_types")}
        />
        <Group justify="flex-end" gap="xs">
          {onCancel ? (
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          ) : null}
          <Button type="submit" loading={pending}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
