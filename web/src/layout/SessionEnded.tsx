import { Button, Modal, Stack, Text } from "@mantine/core";
import { useEffect, useState } from "react";

import { onSessionEnded } from "../api/client";
import { signInUrl, useSession } from "../auth/session";

/** Story 1.1: a session that ends while the console is open asks to sign in again. */
export function SessionEnded() {
  const { me } = useSession();
  const [loginUrl, setLoginUrl] = useState<string | null | undefined>(undefined);
  useEffect(() => onSessionEnded((url) => setLoginUrl(url)), []);
  if (loginUrl === undefined) return null;
  const here = `${window.location.pathname}${window.location.search}`;
  return (
    <Modal
      opened
      onClose={() => {}}
      withCloseButton={false}
      closeOnClickOutside={false}
      closeOnEscape={false}
      title="Your session ended"
      centered
    >
      <Stack>
        <Text size="sm">
          You were signed out (the session was idle too long, reached its maximum length, or was
          ended elsewhere). Sign in again to continue on this page.
        </Text>
        <Button component="a" href={loginUrl ?? signInUrl(me.org_slug, here)}>
          Sign in again
        </Button>
      </Stack>
    </Modal>
  );
}
