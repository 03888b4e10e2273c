// Who is signed in: the browser session (its CSRF token) and the caller's permissions from
// /api/v1/me. Screens ask `can("servers:write")` to decide which actions to offer; the server
// still decides every request.
import { useQuery } from "@tanstack/react-query";
import { createContext, useContext, type ReactNode } from "react";

import { api, setCsrfToken, unwrap } from "../api/client";
import type { components } from "../api/schema";

export type Me = components["schemas"]["Me"];
export type SessionInfo = components["schemas"]["SessionOut"];

export interface Session {
  session: SessionInfo;
  me: Me;
  can: (permission: string) => boolean;
}

const SessionContext = createContext<Session | null>(null);

export async function loadSession(): Promise<{ session: SessionInfo; me: Me }> {
  const session = await unwrap(api.GET("/auth/session"));
  setCsrfToken(session.csrf_token);
  const me = await unwrap(api.GET("/api/v1/me"));
  return { session, me };
}

export function useSessionQuery() {
  return useQuery({ queryKey: ["session"], queryFn: loadSession, retry: false, staleTime: 60_000 });
}

export function SessionProvider({
  value,
  children,
}: {
  value: { session: SessionInfo; me: Me };
  children: ReactNode;
}) {
  const permissions = new Set(value.me.permissions);
  const session: Session = { ...value, can: (p) => permissions.has(p) };
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside a signed-in screen");
  return session;
}

/** Where to sign in for an organization, coming back to `returnTo`. */
export function signInUrl(org: string, returnTo = "/"): string {
  const query = new URLSearchParams({ org, return_to: returnTo });
  return `/auth/login?${query.toString()}`;
}

export const LAST_ORG_KEY = "sprintconnect.org";
