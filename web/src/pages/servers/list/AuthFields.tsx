import { Alert, PasswordInput, Select, Stack, TagsInput, Text, Textarea, TextInput } from "@mantine/core";

import { formatDate } from "../../../components/time";
import type { AuthDraft, AuthErrors, AuthSummary } from "./auth";
import { AUTH_LABELS, options, type AuthType } from "./labels";

/** The authentication type and the fields of that type; secrets never show what is stored. */
export function AuthFields({
  draft,
  onChange,
  stored,
  errors,
}: {
  draft: AuthDraft;
  onChange: (draft: AuthDraft) => void;
  stored?: AuthSummary | null;
  errors: AuthErrors;
}) {
  const set = <K extends keyof AuthDraft>(key: K, value: AuthDraft[K]) => onChange({ ...draft, [key]: value });
  const kept = stored?.configured === true && stored.type === draft.type && draft.type !== "none";
  const secret = (label: string) => (kept ? `${label} (set; leave blank to keep)` : label);
  const text = (key: keyof AuthDraft) => (e: { currentTarget: { value: string } }) => set(key, e.currentTarget.value);
  return (
    <Stack gap="sm">
      <Select
        label="Authentication"
        data={options(AUTH_LABELS)}
        value={draft.type}
        onChange={(v) => v && set("type", v as AuthType)}
        allowDeselect={false}
        comboboxProps={{ withinPortal: true }}
      />
      {kept && stored ? (
        <Alert variant="light" color="gray" p="xs" data-testid="credentials-set">
          <Text size="sm">
            Credentials are set{stored.updated_at ? ` (since ${formatDate(stored.updated_at)})` : ""}. They are
            never shown; leave the secret fields blank to keep them.
          </Text>
          {stored.certificate ? (
            <Text size="xs" c="dimmed" mt={4}>
              Certificate {stored.certificate.subject}, valid until {formatDate(stored.certificate.not_after)}
            </Text>
          ) : null}
        </Alert>
      ) : null}
      {draft.type === "bearer" ? (
        <PasswordInput
          label={secret("Token")}
          required={!kept}
          value={draft.token}
          onChange={text("token")}
          error={errors.token}
          autoComplete="new-password"
        />
      ) : null}
      {draft.type === "header" ? (
        <>
          <TextInput
            label="Header name"
            placeholder="X-API-Key"
            required
            value={draft.header_name}
            onChange={text("header_name")}
            error={errors.header_name}
          />
          <PasswordInput
            label={secret("Header value")}
            required={!kept}
            value={draft.value}
            onChange={text("value")}
            error={errors.value}
            autoComplete="new-password"
          />
        </>
      ) : null}
      {draft.type === "oauth2_client_credentials" ? (
        <>
          <TextInput
            label="Token URL"
            placeholder="https://auth.example.com/oauth/token"
            required
            value={draft.token_url}
            onChange={text("token_url")}
            error={errors.token_url}
          />
          <TextInput label="Client id" required value={draft.client_id} onChange={text("client_id")} error={errors.client_id} />
          <PasswordInput
            label={secret("Client secret")}
            required={!kept}
            value={draft.client_secret}
            onChange={text("client_secret")}
            error={errors.client_secret}
            autoComplete="new-password"
          />
          <TagsInput
            label="Scopes"
            description="Press Enter after each scope."
            value={draft.scopes}
            onChange={(v) => set("scopes", v)}
            error={errors.scopes}
          />
          <TextInput label="Audience" value={draft.audience} onChange={text("audience")} error={errors.audience} />
        </>
      ) : null}
      {draft.type === "mtls" ? (
        <>
          <Textarea
            label={secret("Client certificate (PEM)")}
            required={!kept}
            rows={3}
            resize="vertical"
            value={draft.client_cert_pem}
            onChange={text("client_cert_pem")}
            error={errors.client_cert_pem}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          />
          <Textarea
            label={secret("Private key (PEM)")}
            required={!kept}
            rows={3}
            resize="vertical"
            value={draft.client_key_pem}
            onChange={text("client_key_pem")}
            error={errors.client_key_pem}
            autoComplete="off"
            spellCheck={false}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          />
          <Textarea
            label="CA bundle (PEM, optional)"
            description="Trust these CAs for this server only."
            rows={2}
            resize="vertical"
            value={draft.ca_bundle_pem}
            onChange={text("ca_bundle_pem")}
            error={errors.ca_bundle_pem}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          />
        </>
      ) : null}
    </Stack>
  );
}
