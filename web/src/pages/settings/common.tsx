// What the settings tabs share: the organization query, its update, and the API's field errors.
import { Alert, Button, Group } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { api, unwrap } from "../../api/client";
import { toProblem } from "../../api/problem";
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

interface ApiFieldError {
  loc?: (string | number)[];
  msg?: string;
  field?: string;
  message?: string;
}

function fieldErrors(error: unknown): { path: string[]; message: string }[] {
  if (!error) return [];
  const problem = toProblem(error);
  const errors = (problem.errors ?? []) as unknown as ApiFieldError[];
  return errors.map((e) => {
    const loc = e.loc ? e.loc.map(String) : (e.field ?? "").split(".");
    // "body" (or "query", "path") first; the rest names the field.
    const path = ["body", "query", "path"].includes(loc[0] ?? "") ? loc.slice(1) : loc;
    return { path, message: cleanMessage(e.msg ?? e.message ?? "") };
  });
}

/** Pydantic's "Value error, " prefix says nothing to a person. */
function cleanMessage(message: string): string {
  return message.replace(/^Value error, /, "");
}

/**
 * The API's message for one field of a 422 (`field` is a dotted path below the body, such as
 * "time_zone" or "slack.webhook_url"); a message for a field inside it counts too.
 */
export function fieldError(error: unknown, field: string): string | undefined {
  const wanted = field.split(".");
  return fieldErrors(error).find((e) => wanted.every((part, i) => e.path[i] === part))?.message;
}

/** Every field message of a 422 whose path starts with `field`, with the rest of the path. */
export function fieldErrorsUnder(error: unknown, field: string): { key: string; message: string }[] {
  return fieldErrors(error)
    .filter((e) => e.path[0] === field)
    .map((e) => ({ key: e.path.slice(1).join("."), message: e.message }));
}

/** Whether every field error of `error` is one of `fields` (so the form shows them all). */
export function onlyFieldErrors(error: unknown, fields: string[]): boolean {
  const errors = fieldErrors(error);
  return errors.length > 0 && errors.every((e) => fields.includes(e.path[0] ?? ""));
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
