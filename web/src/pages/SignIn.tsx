import { Alert, Button, Center, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";

import { LAST_ORG_KEY, signInUrl } from "../auth/session";

/** Signed out, or the session ended: sign in through the organization's identity provider. */
export function SignIn({ expired, loginUrl }: { expired: boolean; loginUrl?: string }) {
  const params = new URLSearchParams(window.location.search);
  const [org, setOrg] = useState(params.get("org") ?? localStorage.getItem(LAST_ORG_KEY) ?? "");
  const returnTo = `${window.location.pathname}${window.location.search}`;
  const submit = () => {
    const slug = org.trim().toLowerCase();
    if (!slug) return;
    localStorage.setItem(LAST_ORG_KEY, slug);
    window.location.assign(signInUrl(slug, returnTo));
  };
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="xl" w={420} maw="100%" component="main">
        <Stack>
          <Title order={1} size="h2">
            SprintConnect
          </Title>
          {expired ? (
            <Alert color="yellow" title="Your session ended" role="alert">
              Sign in again to continue where you were.
            </Alert>
          ) : (
            <Text c="dimmed" size="sm">
              Sign in with your organization's identity provider.
            </Text>
          )}
          {expired && loginUrl ? (
            <Button component="a" href={loginUrl}>
              Sign in again
            </Button>
          ) : (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                submit();
              }}
            >
              <Stack>
                <TextInput
                  label="Organization"
                  description="Your organization's short name, as in acme"
                  value={org}
                  onChange={(e) => setOrg(e.currentTarget.value)}
                  required
                  autoFocus
                />
                <Button type="submit" disabled={!org.trim()}>
                  Continue to sign-in
                </Button>
              </Stack>
            </form>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
