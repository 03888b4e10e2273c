// The list's filters live in the address (shareable, kept on reload and back); only valid
// values reach the API, so a half-typed filter never makes a 422.
import type { components } from "../../../api/schema";
import type { HealthStatus, ServerStatus } from "./labels";
import { ENVIRONMENT_PATTERN, TAG_PATTERN } from "./validation";

export type Sort = "created_at" | "-created_at" | "name" | "-name";

export interface Filters {
  q: string;
  environment: string;
  status: ServerStatus | "";
  health: HealthStatus | "";
  tags: string[];
  sort: Sort;
}

export const SORT_LABELS: Record<Sort, string> = {
  "-created_at": "Newest first",
  created_at: "Oldest first",
  name: "Name A–Z",
  "-name": "Name Z–A",
};

const STATUSES = ["pending_discovery", "active", "discovery_failed"];
const HEALTHS = ["healthy", "degraded", "unhealthy", "unknown"];

export function readFilters(params: URLSearchParams): Filters {
  const status = params.get("status") ?? "";
  const health = params.get("health") ?? "";
  const sort = params.get("sort") ?? "";
  return {
    q: params.get("q") ?? "",
    environment: params.get("environment") ?? "",
    status: (STATUSES.includes(status) ? status : "") as Filters["status"],
    health: (HEALTHS.includes(health) ? health : "") as Filters["health"],
    tags: params.getAll("tag"),
    sort: (sort in SORT_LABELS ? sort : "-created_at") as Sort,
  };
}

export function writeFilters(filters: Filters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.environment) params.set("environment", filters.environment);
  if (filters.status) params.set("status", filters.status);
  if (filters.health) params.set("health", filters.health);
  for (const tag of filters.tags) params.append("tag", tag);
  if (filters.sort !== "-created_at") params.set("sort", filters.sort);
  return params;
}

export function hasFilters(filters: Filters): boolean {
  return Boolean(filters.q || filters.environment || filters.status || filters.health || filters.tags.length);
}

type ListQuery = NonNullable<
  NonNullable<
    import("../../../api/schema").operations["list_servers_api_v1_servers_get"]["parameters"]["query"]
  >
>;

/** The query the API gets: only the filters that are set and valid. */
export function apiQuery(filters: Filters): ListQuery {
  const query: ListQuery = { sort: filters.sort };
  const q = filters.q.trim();
  if (q) query.q = q.slice(0, 200);
  if (ENVIRONMENT_PATTERN.test(filters.environment)) query.environment = filters.environment;
  if (filters.status) query.status = filters.status;
  if (filters.health) query.health = filters.health;
  const tags = filters.tags.filter((t) => TAG_PATTERN.test(t));
  if (tags.length) query.tag = tags;
  return query;
}

export type ServerPage = components["schemas"]["ServerPage"];
