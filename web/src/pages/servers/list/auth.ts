// The auth part of the form: a draft of every type's fields, and what to send for it.
// Credentials are write-only: on edit the secret fields start blank, and blank keeps them.
import type { components } from "../../../api/schema";
import type { AuthType } from "./labels";

type S = components["schemas"];
export type AuthSettings =
  | S["NoAuth"]
  | S["BearerAuth"]
  | S["HeaderAuth"]
  | S["OAuth2ClientCredentials"]
  | S["MtlsAuth"];
export type AuthSummary = S["AuthSummary"];

export interface AuthDraft {
  type: AuthType;
  token: string;
  header_name: string;
  value: string;
  token_url: string;
  client_id: string;
  client_secret: string;
  scopes: string[];
  audience: string;
  client_cert_pem: string;
  client_key_pem: string;
  ca_bundle_pem: string;
}

export function authDraft(summary?: AuthSummary | null): AuthDraft {
  return {
    type: summary?.type ?? "none",
    token: "",
    header_name: summary?.header_name ?? "",
    value: "",
    token_url: summary?.token_url ?? "",
    client_id: summary?.client_id ?? "",
    client_secret: "",
    scopes: summary?.scopes ?? [],
    audience: summary?.audience ?? "",
    client_cert_pem: "",
    client_key_pem: "",
    ca_bundle_pem: "",
  };
}

export type AuthErrors = Partial<Record<keyof AuthDraft, string>>;

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * What to send as `auth`: `undefined` keeps what is stored (or the default, none, on
 * registration); errors name the fields that must be filled first.
 */
export function authToSend(
  draft: AuthDraft,
  stored?: AuthSummary | null,
): { auth?: AuthSettings; errors: AuthErrors } {
  const kept = stored?.type === draft.type && stored.configured;
  const errors: AuthErrors = {};
  const need = (field: keyof AuthDraft, message: string) => {
    const value = draft[field];
    if (typeof value === "string" && !value.trim()) errors[field] = message;
  };
  switch (draft.type) {
    case "none":
      return { auth: stored && stored.type !== "none" ? { type: "none" } : undefined, errors };
    case "bearer":
      if (kept && !draft.token) return { errors };
      need("token", "Enter the token.");
      return { auth: { type: "bearer", token: draft.token }, errors };
    case "header": {
      need("header_name", "Enter the header's name, e.g. X-API-Key.");
      if (kept && !draft.value && draft.header_name === (stored?.header_name ?? "")) return { errors };
      need("value", kept ? "Enter the value again to change the header." : "Enter the value.");
      return { auth: { type: "header", header_name: draft.header_name.trim(), value: draft.value }, errors };
    }
    case "oauth2_client_credentials": {
      need("token_url", "Enter the token endpoint's URL.");
      need("client_id", "Enter the client id.");
      const unchanged =
        draft.token_url === (stored?.token_url ?? "") &&
        draft.client_id === (stored?.client_id ?? "") &&
        draft.audience === (stored?.audience ?? "") &&
        same(draft.scopes, stored?.scopes ?? []);
      if (kept && !draft.client_secret && unchanged) return { errors };
      need(
        "client_secret",
        kept ? "Enter the client secret again to change these settings." : "Enter the client secret.",
      );
      return {
        auth: {
          type: "oauth2_client_credentials",
          token_url: draft.token_url.trim(),
          client_id: draft.client_id.trim(),
          client_secret: draft.client_secret,
          scopes: draft.scopes,
          audience: draft.audience.trim() || null,
        },
        errors,
      };
    }
    case "mtls":
      if (kept && !draft.client_cert_pem && !draft.client_key_pem && !draft.ca_bundle_pem) {
        return { errors };
      }
      need("client_cert_pem", "Paste the client certificate (PEM).");
      need("client_key_pem", "Paste the client certificate's private key (PEM).");
      return {
        auth: {
          type: "mtls",
          client_cert_pem: draft.client_cert_pem,
          client_key_pem: draft.client_key_pem,
          ca_bundle_pem: draft.ca_bundle_pem.trim() ? draft.ca_bundle_pem : null,
        },
        errors,
      };
  }
}
