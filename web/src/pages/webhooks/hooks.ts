// What the webhook screens share: types, query keys, the event catalog and its groups.
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type Webhook = components["schemas"]["Webhook"];
export type WebhookCreated = components["schemas"]["WebhookWithSecret"];
export type EventType = components["schemas"]["EventType"];
export type Delivery = components["schemas"]["sprintconnect__webhook__schemas__Delivery"];
export type Stats = components["schemas"]["Stats"];
export type TestResult = components["schemas"]["WebhookTestResult"];

export const WEBHOOKS_KEY = ["webhooks"] as const;
export const webhookKey = (id: string) => ["webhooks", id] as const;

export function useEventTypes() {
  return useQuery({
    queryKey: ["webhooks", "event-types"],
    queryFn: () => unwrap(api.GET("/api/v1/webhooks/event-types")),
    staleTime: Infinity,
  });
}

export function useStats(id: string) {
  return useQuery({
    queryKey: ["webhooks", id, "stats"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/webhooks/{webhook_id}/stats", { params: { path: { webhook_id: id } } })),
  });
}

export interface EventGroup {
  prefix: string; // "server"
  pattern: string; // "server.*"
  types: EventType[];
}

/** The catalog by its first word: server.*, api_key.*, ... (in the catalog's order). */
export function groupEvents(types: EventType[]): EventGroup[] {
  const groups = new Map<string, EventType[]>();
  for (const t of types) {
    const prefix = t.type.split(".")[0] ?? t.type;
    groups.set(prefix, [...(groups.get(prefix) ?? []), t]);
  }
  return [...groups].map(([prefix, items]) => ({ prefix, pattern: `${prefix}.*`, types: items }));
}

export function groupLabel(prefix: string): string {
  const words = prefix.replace(/_/g, " ");
  return words === "api key" ? "API key" : words.charAt(0).toUpperCase() + words.slice(1);
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)}%`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}
