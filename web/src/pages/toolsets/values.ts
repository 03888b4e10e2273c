// The toolset form's values, their checks (the API's own rules, said for people), and the
// request bodies they become.
import { fieldErrors, ProblemError } from "../../api/problem";
import type { CapabilityClass, Toolset, ToolsetCreate, ToolsetUpdate } from "./hooks";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

export interface MemberValues {
  key: string; // stable across re-renders and removals
  server_id: string | null;
  server_name: string | null;
  all: boolean; // every tool of the server, or only `tools`
  tools: string[];
  prefix: string;
  prompts: boolean; // the server's prompts exposed too
  resources: boolean; // and its resources and resource templates
  rename: Record<string, string>;
  classes: Record<string, CapabilityClass>;
}

export interface ToolsetValues {
  name: string;
  description: string;
  timeout: string; // seconds as typed; empty: the platform's default
  servers: MemberValues[];
}

let counter = 0;
export const memberKey = () => `member-${++counter}`;

export function blankMember(): MemberValues {
  return {
    key: memberKey(),
    server_id: null,
    server_name: null,
    all: true,
    tools: [],
    prefix: "",
    prompts: true,
    resources: true,
    rename: {},
    classes: {},
  };
}

export const BLANK: ToolsetValues = { name: "", description: "", timeout: "", servers: [] };

export function valuesOf(toolset: Toolset): ToolsetValues {
  return {
    name: toolset.name,
    description: toolset.description ?? "",
    timeout: toolset.timeout_seconds === null ? "" : String(toolset.timeout_seconds),
    servers: toolset.servers.map((m) => ({
      key: memberKey(),
      server_id: m.server_id,
      server_name: m.server_name,
      all: m.tools === null,
      tools: m.tools ?? [],
      prefix: m.prefix ?? "",
      prompts: m.prompts,
      resources: m.resources,
      rename: { ...m.rename },
      classes: { ...m.classes } as Record<string, CapabilityClass>,
    })),
  };
}

/** Why a toolset name is refused, or null: it is one path segment of the endpoint. */
export function nameProblem(name: string): string | null {
  if (!name) return "Enter a name.";
  if (name.length > 63) return "At most 63 characters.";
  if (!/^[a-z0-9]/.test(name)) return "Start with a lowercase letter or a digit.";
  if (!NAME.test(name)) return "Use only lowercase letters, digits and dashes (-).";
  return null;
}

export function timeoutProblem(timeout: string): string | null {
  if (!timeout.trim()) return null;
  const seconds = Number(timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) return "A number of seconds above 0.";
  if (seconds > 3600) return "At most 3600 seconds (one hour).";
  return null;
}

export function prefixProblem(prefix: string): string | null {
  if (!prefix) return null;
  if (!PREFIX.test(prefix)) return "At most 64 letters, digits, '_', '-' or '.'.";
  return null;
}

export function renameProblem(name: string): string | null {
  if (!name) return null;
  if (!TOOL_NAME.test(name)) return "At most 128 letters, digits, '_', '-' or '.'.";
  return null;
}

export interface MemberErrors {
  server_id?: string;
  tools?: string;
  prefix?: string;
  rename: Record<string, string>;
  other: string[]; // what the API said about the entry that no field shows
}

export interface FormErrors {
  name?: string;
  description?: string;
  timeout?: string;
  servers: MemberErrors[];
}

/** The form's own checks: what would make the API refuse it. */
export function validate(values: ToolsetValues, { checkName = true } = {}): FormErrors {
  const errors: FormErrors = { servers: [] };
  const name = checkName ? nameProblem(values.name) : null;
  if (name) errors.name = name;
  if (values.description.length > 2000) errors.description = "At most 2000 characters.";
  const timeout = timeoutProblem(values.timeout);
  if (timeout) errors.timeout = timeout;
  const seen = new Set<string>();
  errors.servers = values.servers.map((m) => {
    const e: MemberErrors = { rename: {}, other: [] };
    if (!m.server_id) e.server_id = "Choose a server.";
    else if (seen.has(m.server_id)) e.server_id = "This server is already in the toolset.";
    if (m.server_id) seen.add(m.server_id);
    if (!m.all && m.tools.length === 0) e.tools = "Choose at least one tool, or All tools.";
    const prefix = prefixProblem(m.prefix);
    if (prefix) e.prefix = prefix;
    for (const [tool, exposed] of Object.entries(m.rename)) {
      const problem = renameProblem(exposed);
      if (problem) e.rename[tool] = problem;
    }
    return e;
  });
  return errors;
}

export function hasErrors(errors: FormErrors): boolean {
  return Boolean(
    errors.name ||
      errors.description ||
      errors.timeout ||
      errors.servers.some((s) => s.server_id || s.tools || s.prefix || Object.keys(s.rename).length || s.other.length),
  );
}

/** The API's answer to the last attempt, placed beside the fields it names. */
export function serverErrors(error: unknown, members: number): FormErrors & { mapped: boolean } {
  const found: FormErrors = {
    servers: Array.from({ length: members }, () => ({ rename: {}, other: [] })),
  };
  let mapped = true;
  if (error instanceof ProblemError && error.kind === "toolset-name-taken") {
    found.name = error.problem.detail ?? error.problem.title;
  }
  for (const { field, message } of fieldErrors(error)) {
    const [head, index, part, ...rest] = field.split(".");
    if (head === "name" || head === "description") {
      found[head] = message;
    } else if (head === "timeout_seconds") {
      found.timeout = message;
    } else if (head === "servers" && index !== undefined && found.servers[Number(index)]) {
      const member = found.servers[Number(index)]!;
      if (part === "server_id" || part === "prefix" || part === "tools") {
        // One line each (a collision names every shared tool).
        member[part] = member[part] ? `${member[part]}\n${message}` : message;
      } else if (part === "rename" && rest[0]) {
        member.rename[rest[0]] = message;
      } else {
        member.other.push(message);
      }
    } else {
      mapped = false;
    }
  }
  return { ...found, mapped };
}

/** Ours first; the API's answer where ours finds nothing. */
export function merge(own: FormErrors, api: FormErrors): FormErrors {
  return {
    name: own.name ?? api.name,
    description: own.description ?? api.description,
    timeout: own.timeout ?? api.timeout,
    servers: own.servers.map((m, i) => {
      const a = api.servers[i];
      return {
        server_id: m.server_id ?? a?.server_id,
        tools: m.tools ?? a?.tools,
        prefix: m.prefix ?? a?.prefix,
        rename: { ...(a?.rename ?? {}), ...m.rename },
        other: [...m.other, ...(a?.other ?? [])],
      };
    }),
  };
}

function membersBody(values: ToolsetValues): ToolsetCreate["servers"] {
  return values.servers.map((m) => {
    const listed = new Set(m.tools);
    // Settings of tools no longer chosen would only confuse the next reader.
    const keep = (tool: string) => m.all || listed.has(tool);
    const rename = Object.fromEntries(
      Object.entries(m.rename).filter(([tool, to]) => keep(tool) && to.trim() && to.trim() !== tool),
    );
    const classes = Object.fromEntries(Object.entries(m.classes).filter(([tool]) => keep(tool)));
    return {
      server_id: m.server_id ?? "",
      tools: m.all ? null : m.tools,
      prefix: m.prefix.trim() || null,
      prompts: m.prompts,
      resources: m.resources,
      rename: Object.fromEntries(Object.entries(rename).map(([k, v]) => [k, v.trim()])),
      classes,
    };
  });
}

export function createBody(values: ToolsetValues): ToolsetCreate {
  return {
    name: values.name,
    description: values.description.trim() || null,
    timeout_seconds: values.timeout.trim() ? Number(values.timeout) : null,
    servers: membersBody(values),
  };
}

export function updateBody(values: ToolsetValues): ToolsetUpdate {
  const { name: _name, ...rest } = createBody(values);
  return rest;
}
