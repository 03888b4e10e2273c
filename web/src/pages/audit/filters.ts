// The audit log's filters: kept in the address (so a filtered view can be shared, and the
// export link carries the same query), edited in a form, checked before they are sent.
import type { operations } from "../../api/schema";

export type AuditQuery = NonNullable<
  operations["list_events_api_v1_audit_events_get"]["parameters"]["query"]
>;

/** The filters the API reads, by their query names. */
export const FILTER_NAMES = [
  "actor_type",
  "actor_id",
  "action",
  "target_type",
  "target_id",
  "outcome",
  "from",
  "to",
  "q",
] as const;
export type FilterName = (typeof FILTER_NAMES)[number];
export type Filters = Partial<Record<FilterName, string>>;

/** Where a date of the form is read: the browser's time zone or UTC. */
export type Zone = "local" | "utc";

export interface FormValues {
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: string;
  from: string; // datetime-local: 2026-11-28T10:15
  to: string;
  zone: Zone;
  q: string;
}

export const ACTION_RE = /^[a-z0-9_]+(:[a-z0-9_]+)*(:|:?\*)?$/;
const NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;

export function filtersOf(params: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const name of FILTER_NAMES) {
    const value = params.get(name);
    if (value) filters[name] = value;
  }
  return filters;
}

/** The API's query for `filters` (the outcome narrowed to what it accepts). */
export function apiQuery(filters: Filters): AuditQuery {
  const { outcome, ...rest } = filters;
  return {
    ...rest,
    outcome: outcome === "success" || outcome === "failure" ? outcome : undefined,
  };
}

/** The export's address with the current filters: a plain link, sent with the session cookie. */
export function exportHref(filters: Filters, format: "csv" | "ndjson" | "json"): string {
  const query = new URLSearchParams({ format });
  for (const name of FILTER_NAMES) {
    const value = filters[name];
    if (value) query.set(name, value);
  }
  return `/api/v1/audit/events/export?${query.toString()}`;
}

/** The browser's offset from UTC at `date`, as ISO 8601 writes it: +01:00, -05:30. */
export function offsetOf(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${sign}${hh}:${mm}`;
}

/** A datetime-local value as an instant with its offset, as the API wants it. */
export function withOffset(local: string, zone: Zone): string {
  const seconds = local.length === 16 ? `${local}:00` : local;
  if (zone === "utc") return `${seconds}Z`;
  return `${seconds}${offsetOf(new Date(seconds))}`;
}

/** The form's view of an instant the address holds (written by `withOffset`). */
function localOf(value: string | undefined): { value: string; zone?: Zone } {
  if (!value) return { value: "" };
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  if (!match) return { value: "" };
  return { value: match[1]!, zone: match[2] === "Z" ? "utc" : "local" };
}

export function formOf(filters: Filters): FormValues {
  const from = localOf(filters.from);
  const to = localOf(filters.to);
  return {
    actor_id: filters.actor_id ?? "",
    action: filters.action ?? "",
    target_type: filters.target_type ?? "",
    target_id: filters.target_id ?? "",
    outcome: filters.outcome ?? "",
    from: from.value,
    to: to.value,
    zone: from.zone ?? to.zone ?? "local",
    q: filters.q ?? "",
  };
}

export type FormErrors = Partial<Record<keyof FormValues, string>>;

export function validate(form: FormValues): FormErrors {
  const errors: FormErrors = {};
  const q = form.q.trim();
  if (q && (q.length < 3 || q.length > 200)) errors.q = "Search for 3 to 200 characters.";
  const action = form.action.trim();
  if (action && !ACTION_RE.test(action)) {
    errors.action = "An audit tag like org:server:registered, or a prefix ending in : or *.";
  }
  const targetType = form.target_type.trim();
  if (targetType && !NAME_RE.test(targetType)) {
    errors.target_type = "A type like mcp_server or api_key.";
  }
  if (form.actor_id.trim().length > 64) errors.actor_id = "At most 64 characters.";
  if (form.target_id.trim().length > 64) errors.target_id = "At most 64 characters.";
  if (form.from && form.to) {
    const start = new Date(withOffset(form.from, form.zone)).getTime();
    const end = new Date(withOffset(form.to, form.zone)).getTime();
    if (start >= end) errors.to = "Must be after From.";
  }
  return errors;
}

/** The filters a form asks for (empty fields left out). */
export function filtersOfForm(form: FormValues): Filters {
  const filters: Filters = {};
  const set = (name: FilterName, value: string) => {
    if (value.trim()) filters[name] = value.trim();
  };
  set("actor_id", form.actor_id);
  set("action", form.action);
  set("target_type", form.target_type);
  set("target_id", form.target_id);
  set("outcome", form.outcome);
  if (form.from) filters.from = withOffset(form.from, form.zone);
  if (form.to) filters.to = withOffset(form.to, form.zone);
  set("q", form.q);
  return filters;
}
