// What the toolset screens share: types, query keys, queries, and the endpoint a client uses.
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type Toolset = components["schemas"]["ToolsetOut"];
export type ToolsetMember = components["schemas"]["ToolsetServerOut"];
export type ToolsetCreate = components["schemas"]["ToolsetCreate"];
export type ToolsetUpdate = components["schemas"]["ToolsetUpdate"];
export type ExposedTool = components["schemas"]["ExposedTool"];
export type Exposed = components["schemas"]["ExposedTools"];
export type CapabilityItem = components["schemas"]["CapabilityOut"];
export type Server = components["schemas"]["Server"];
export type CapabilityClass = "read" | "write" | "expensive";

export const CLASSES: CapabilityClass[] = ["read", "write", "expensive"];

export const TOOLSETS_KEY = ["toolsets"] as const;
export const toolsetKey = (id: string) => ["toolsets", id] as const;
export const exposedKey = (id: string) => ["toolsets", id, "tools"] as const;

/** The organization's toolsets by name, 50 at a time. */
export function useToolsetPages() {
  return useInfiniteQuery({
    queryKey: [...TOOLSETS_KEY, "list"],
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/toolsets", {
          params: { query: { limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useToolset(id: string) {
  return useQuery({
    queryKey: toolsetKey(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/toolsets/{toolset_id}", { params: { path: { toolset_id: id } }, signal })),
  });
}

/** What MCP clients of the toolset see now (names after prefixes, renames and collisions). */
export function useExposedTools(id: string) {
  return useQuery({
    queryKey: exposedKey(id),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/toolsets/{toolset_id}/tools", { params: { path: { toolset_id: id } }, signal }),
      ),
  });
}

/** Servers to pick from, searched by the API (`q`): never the whole fleet at once. */
export function useServerChoices(search: string) {
  return useQuery({
    queryKey: ["servers", "list", { q: search, limit: 50, purpose: "toolset" }],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/servers", {
          params: { query: { limit: 50, sort: "name", ...(search ? { q: search } : {}) } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    staleTime: 10_000,
  });
}

/** The tools of a server's latest snapshot (same key as the server screens use). */
export function useServerTools(serverId: string | null) {
  return useQuery({
    queryKey: ["servers", serverId ?? "", "capabilities", "latest"],
    enabled: Boolean(serverId),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/capabilities", {
          params: { path: { server_id: serverId ?? "" } },
          signal,
        }),
      ),
    staleTime: 10_000,
  });
}

/** The class a tool has when none is chosen: what the server's annotations imply. */
export function impliedClass(tool: CapabilityItem | undefined): CapabilityClass {
  const annotations = tool?.definition.annotations;
  if (annotations && typeof annotations === "object") {
    if ((annotations as { readOnlyHint?: unknown }).readOnlyHint === true) return "read";
  }
  return "write";
}

/** The full URL of a toolset's endpoint (the API answers its path). */
export function endpointUrl(endpoint: string, origin = window.location.origin): string {
  return `${origin}${endpoint}`;
}

/** Never a real key: the person puts in one of their own. */
export const KEY_PLACEHOLDER = "<your API key>";

/** The MCP client configuration (the `mcpServers` format most clients read) for a toolset. */
export function clientConfig(name: string, url: string): string {
  const config = {
    mcpServers: {
      [name]: {
        type: "http",
        url,
        headers: { Authorization: `Bearer ${KEY_PLACEHOLDER}` },
      },
    },
  };
  return JSON.stringify(config, null, 2);
}

export function serversLabel(count: number): string {
  return `${count} server${count === 1 ? "" : "s"}`;
}
