// The server detail screens' data: types from the OpenAPI document and the queries they share.
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../../api/client";
import type { components } from "../../../api/schema";

export type Server = components["schemas"]["Server"];
export type Discovery = components["schemas"]["DiscoveryOut"];
export type Capabilities = components["schemas"]["Capabilities"];
export type CapabilityItem = components["schemas"]["CapabilityOut"];
export type Snapshot = components["schemas"]["SnapshotSummary"];
export type SnapshotDiff = components["schemas"]["SnapshotDiff"];
export type HealthDetails = components["schemas"]["HealthDetails"];
export type HealthHistory = components["schemas"]["HealthHistory"];
export type CheckResult = components["schemas"]["CheckResult"];

// Every key starts with ["servers", id]: saving a server invalidates ["servers"] and with it all.
export const keys = {
  server: (id: string) => ["servers", id] as const,
  capabilities: (id: string, version?: number) =>
    ["servers", id, "capabilities", version ?? "latest"] as const,
  snapshots: (id: string) => ["servers", id, "snapshots"] as const,
  discoveries: (id: string) => ["servers", id, "discoveries"] as const,
  discovery: (id: string, discoveryId: string) => ["servers", id, "discovery", discoveryId] as const,
  diff: (id: string, a: number, b: number) => ["servers", id, "diff", a, b] as const,
  health: (id: string) => ["servers", id, "health"] as const,
  history: (id: string, range: string) => ["servers", id, "health-history", range] as const,
};

export const ACTIVE = new Set(["queued", "in_progress"]);

export function useServer(id: string) {
  return useQuery({
    queryKey: keys.server(id),
    queryFn: () => unwrap(api.GET("/api/v1/servers/{server_id}", { params: { path: { server_id: id } } })),
  });
}

/** The capabilities of a snapshot (the latest without `version`). */
export function useCapabilities(id: string, version?: number, enabled = true) {
  return useQuery({
    queryKey: keys.capabilities(id, version),
    enabled,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/capabilities", {
          params: { path: { server_id: id }, query: version ? { version } : {} },
        }),
      ),
    // A snapshot version never changes; the latest does when a discovery records one.
    staleTime: version ? Infinity : 10_000,
  });
}

/** The server's recent discoveries, newest first. */
export function useDiscoveries(id: string) {
  return useQuery({
    queryKey: keys.discoveries(id),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/discoveries", {
          params: { path: { server_id: id }, query: { limit: 100 } },
        }),
      ),
  });
}

export const KIND_LABELS: Record<CapabilityItem["kind"], string> = {
  tool: "Tools",
  resource: "Resources",
  resource_template: "Resource templates",
  prompt: "Prompts",
};

export const KIND_SINGULAR: Record<string, string> = {
  tool: "tool",
  resource: "resource",
  resource_template: "resource template",
  prompt: "prompt",
};

/** "2 tools · 1 resource · 1 prompt" from a snapshot's counts. */
export function describeCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${KIND_SINGULAR[kind] ?? kind}${n === 1 ? "" : "s"}`);
  return parts.length ? parts.join(" · ") : "nothing listed";
}

/** Notifications' close button, named for screen readers. */
export const CLOSE = { "aria-label": "Close notification" };
