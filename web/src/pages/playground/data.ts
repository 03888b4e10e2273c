// The playground's data: servers to pick from, a server's capabilities, your recent calls.
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type Server = components["schemas"]["Server"];
export type CapabilityItem = components["schemas"]["CapabilityOut"];
export type CallRow = components["schemas"]["CallOut"];

export const HISTORY_KEY = ["playground", "history"] as const;
const SERVER_PAGE = 100;
const HISTORY_PAGE = 20;

/** Servers whose name matches `search` (the first 100, by name), and the chosen one. */
export function useServerChoices(search: string, chosen: string | null) {
  const list = useQuery({
    queryKey: ["servers", "playground-choices", search],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/servers", {
          params: { query: { sort: "name", limit: SERVER_PAGE, ...(search ? { q: search } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  // A deep link may name a server outside the first page: it is fetched on its own.
  const inList = !chosen || (list.data?.items ?? []).some((s) => s.id === chosen);
  const one = useQuery({
    queryKey: ["servers", chosen ?? ""],
    enabled: Boolean(chosen) && list.isSuccess && !inList,
    queryFn: () => unwrap(api.GET("/api/v1/servers/{server_id}", { params: { path: { server_id: chosen ?? "" } } })),
  });
  const items = [...(list.data?.items ?? [])];
  if (one.data && !items.some((s) => s.id === one.data.id)) items.unshift(one.data);
  return { list, one, items };
}

export function useCapabilities(serverId: string | null) {
  return useQuery({
    queryKey: ["servers", serverId ?? "", "capabilities", "latest"],
    enabled: Boolean(serverId),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/servers/{server_id}/capabilities", {
          params: { path: { server_id: serverId ?? "" }, query: {} },
        }),
      ),
    staleTime: 10_000,
  });
}

/** Your playground calls, newest first, a page at a time. */
export function useHistory() {
  return useInfiniteQuery({
    queryKey: HISTORY_KEY,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/tool-calls", {
          params: {
            query: { source: "playground", limit: HISTORY_PAGE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

/** "12 ms", "1.4 s". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** "512 B", "3.1 kB", "2.0 MB". */
export function size(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
