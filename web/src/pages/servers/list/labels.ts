// How the registry's values read in the console.
import type { components } from "../../../api/schema";

export type Server = components["schemas"]["Server"];
export type ServerStatus = Server["status"];
export type Transport = Server["transport"];
export type AuthType = components["schemas"]["AuthSummary"]["type"];
export type HealthStatus = Server["health"]["status"];

export const STATUS_LABELS: Record<ServerStatus, string> = {
  pending_discovery: "Pending discovery",
  active: "Active",
  discovery_failed: "Discovery failed",
};

export const STATUS_COLORS: Record<ServerStatus, string> = {
  pending_discovery: "blue",
  active: "green",
  discovery_failed: "red",
};

export const TRANSPORT_LABELS: Record<Transport, string> = {
  streamable_http: "Streamable HTTP",
  sse: "SSE",
};

export const HEALTH_LABELS: Record<HealthStatus, string> = {
  healthy: "Healthy",
  degraded: "Degraded",
  unhealthy: "Unhealthy",
  unknown: "Unknown",
};

export const AUTH_LABELS: Record<AuthType, string> = {
  none: "None",
  bearer: "Bearer token",
  header: "API key in a header",
  oauth2_client_credentials: "OAuth 2 client credentials",
  mtls: "Mutual TLS (client certificate)",
};

/** The connection check's classified reasons, as a heading for its guidance. */
export const REASON_LABELS: Record<string, string> = {
  dns: "The host name does not resolve",
  connection_refused: "The connection was refused",
  tls: "The TLS handshake failed",
  auth_rejected: "The server refused the credentials",
  protocol_error: "The server did not answer as an MCP server",
  timeout: "The server did not answer in time",
  egress_denied: "The destination is not allowed",
  unknown: "An unexpected error",
};

export function options<T extends string>(labels: Record<T, string>): { value: T; label: string }[] {
  return (Object.keys(labels) as T[]).map((value) => ({ value, label: labels[value] }));
}
