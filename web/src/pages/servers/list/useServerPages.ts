import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../../api/client";
import { apiQuery, type Filters, type ServerPage } from "./filters";

export const PAGE_SIZE = 50;

/** The servers matching `filters`, a page at a time (cursor paging; never the whole fleet). */
export function useServerPages(filters: Filters) {
  const query = apiQuery(filters);
  return useInfiniteQuery({
    queryKey: ["servers", "list", query],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }): Promise<ServerPage> =>
      unwrap(
        api.GET("/api/v1/servers", {
          params: { query: { ...query, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
    placeholderData: keepPreviousData,
  });
}
