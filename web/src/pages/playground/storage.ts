// The arguments of your last calls, so that a call in the history can be run again. They stay
// in this tab only (sessionStorage, never localStorage: arguments may hold personal data), under
// the session that made them: another session in this tab (after signing out and in, perhaps
// as someone else) drops them. The API keeps no arguments.
import type { Kind } from "./invoke";

const PREFIX = "sprintconnect.playground.";
const KEEP = 20;
// How far apart the browser's record and the server's measurement of one call may be.
const MATCH_MS = 30_000;

export interface KeptCall {
  at: number; // the server's clock when the call ended, in ms
  serverId: string;
  kind: Kind;
  name: string;
  arguments: Record<string, unknown>;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: nothing is kept
  }
}

/** Forget every session's arguments but `sessionId`'s. */
export function forgetOtherSessions(sessionId: string): void {
  const store = storage();
  if (!store) return;
  for (let i = store.length - 1; i >= 0; i--) {
    const key = store.key(i);
    if (key?.startsWith(PREFIX) && key !== PREFIX + sessionId) store.removeItem(key);
  }
}

export function forgetAll(): void {
  forgetOtherSessions("");
}

export function keptCalls(sessionId: string): KeptCall[] {
  const raw = storage()?.getItem(PREFIX + sessionId);
  if (!raw) return [];
  try {
    const list: unknown = JSON.parse(raw);
    return Array.isArray(list) ? (list as KeptCall[]) : [];
  } catch {
    return [];
  }
}

export function keepCall(sessionId: string, call: KeptCall): void {
  const list = [call, ...keptCalls(sessionId)].slice(0, KEEP);
  try {
    storage()?.setItem(PREFIX + sessionId, JSON.stringify(list));
  } catch {
    // Full or disabled: the history still works, without arguments to refill.
  }
}

/** The kept arguments of a measured call: same server, kind and name, closest in time. */
export function findKept(
  sessionId: string,
  row: { at: string; server_id: string | null; kind: string; name: string },
): KeptCall | undefined {
  const at = Date.parse(row.at);
  let best: KeptCall | undefined;
  let distance = Infinity;
  for (const kept of keptCalls(sessionId)) {
    if (kept.serverId !== row.server_id || kept.kind !== row.kind || kept.name !== row.name) continue;
    const d = Math.abs(kept.at - at);
    if (d <= MATCH_MS && d < distance) {
      best = kept;
      distance = d;
    }
  }
  return best;
}
