// What the settings tabs share: the organization query, its update, and the API's field errors.
import { Alert, Button, Group } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { api, unwrap } from "../../api/client";
import { fieldErrors, fieldMessages, toProblem } from "../../api/problem";
import type { components } from "../../api/schema";

export type Organization = components["schemas"]["OrganizationOut"];
export type OrganizationUpdate = components["schemas"]["OrganizationUpdate"];

export const ORG_KEY = ["organization"] as const;

export function useOrganization() {
  return useQuery({ queryKey: ORG_KEY, queryFn: () => unwrap(api.GET("/api/v1/organization")) });
}

export function useUpdateOrganization() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: OrganizationUpdate) => unwrap(api.PATCH("/api/v1/organization", { body })),
    onSuccess: (org) => {
      client.setQueryData(ORG_KEY, org);
      // The header shows the organization's name from /me.
      void client.invalidateQueries({ queryKey: ["session"] });
    },
  });
}

/** The API's message for one field of a 422 ("time_zone", "slack.webhook_url", or inside it). */
export function fieldError(error: unknown, field: string): string | undefined {
  return fieldMessages(error, field)[0];
}

/** Every field message of a 422 whose path starts with `field`, with the rest of the path. */
export function fieldErrorsUnder(error: unknown, field: string): { key: string; message: string }[] {
  return fieldErrors(error)
    .filter((e) => e.field === field || e.field.startsWith(`${field}.`))
    .map((e) => ({ key: e.field.slice(field.length + 1), message: e.message }));
}

/** Whether every field error of `error` is one of `fields` (so the form shows them all). */
export function onlyFieldErrors(error: unknown, fields: string[]): boolean {
  const errors = fieldErrors(error);
  return errors.length > 0 && errors.every((e) => fields.includes(e.field.split(".")[0] ?? ""));
}

/** A failed write: its title and detail, without the field list the form already shows. */
export function WriteError({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problem = toProblem(error);
  return (
    <Alert color="red" variant="light" title={title ?? problem.title} role="alert">
      {problem.detail}
    </Alert>
  );
}

export function saved(message: string): void {
  notifications.show({ color: "green", message, closeButtonProps: { "aria-label": "Dismiss" } });
}

export function ReadOnlyNote({ children }: { children: ReactNode }) {
  return (
    <Alert variant="light" color="gray" title="Read-only" mb="md">
      {children}
    </Alert>
  );
}

export function SaveBar({
  loading,
  disabled,
  label = "Save",
  children,
}: {
  loading: boolean;
  disabled?: boolean;
  label?: string;
  children?: ReactNode;
}) {
  return (
    <Group justify="flex-end" gap="xs" wrap="wrap">
      {children}
      <Button type="submit" loading={loading} disabled={disabled}>
        {label}
      </Button>
    </Group>
  );
}
