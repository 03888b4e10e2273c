// What the API key screen's parts share: the query key, the key type, "expiring soon".
import type { components } from "../../api/schema";

export type ApiKey = components["schemas"]["ApiKey"];

export const KEYS_KEY = ["api-keys"] as const;

const SOON_MS = 7 * 24 * 3600 * 1000;

/** An active key that expires within the next 7 days. */
export function expiringSoon(key: ApiKey, now = Date.now()): boolean {
  if (key.status !== "active" || !key.expires_at) return false;
  const left = new Date(key.expires_at).getTime() - now;
  return left > 0 && left <= SOON_MS;
}
