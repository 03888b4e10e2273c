// The policy API as the screen uses it: queries, their keys, and the writes.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";

export type EffectivePolicy = components["schemas"]["EffectivePolicy"];
export type PolicyVersion = components["schemas"]["PolicyVersionOut"];
export type DryRun = components["schemas"]["DryRun"];
export type DryRunResult = components["schemas"]["DryRunResult"];
export type Member = components["schemas"]["Member"];

export const KEYS = {
  all: ["policies"] as const,
  effective: ["policies", "effective"] as const,
  versions: ["policies", "versions"] as const,
  version: (v: number) => ["policies", "version", v] as const,
};

export function useEffectivePolicy() {
  return useQuery({
    queryKey: KEYS.effective,
    queryFn: () => unwrap(api.GET("/api/v1/policies")),
  });
}

export function useVersions() {
  return useInfiniteQuery({
    queryKey: KEYS.versions,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/policies/versions", {
          params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

export function useVersion(version: number | null) {
  return useQuery({
    queryKey: KEYS.version(version ?? 0),
    enabled: version !== null && version > 0,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/policies/versions/{version}", {
          params: { path: { version: version ?? 0 } },
        }),
      ),
    staleTime: Infinity, // a version never changes once stored
  });
}

/** Members by user id, to name who published a version (when the caller may list members). */
export function useMembers() {
  const { can } = useSession();
  return useQuery({
    queryKey: ["policies", "members"],
    enabled: can("users:read"),
    queryFn: () => unwrap(api.GET("/api/v1/users", { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
}

export function useInvalidatePolicies() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: KEYS.all });
}
