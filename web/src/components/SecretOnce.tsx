import { Alert, Code, CopyButton, Button, Group, Stack, Text } from "@mantine/core";

/** A secret the API answers once (an API key, a webhook secret): copy it now or lose it. */
export function SecretOnce({ label, value }: { label: string; value: string }) {
  return (
    <Alert
      color="yellow"
      variant="light"
      title={`Copy the ${label} now`}
      // Yellow on yellow is below AA contrast: the title keeps the text colour.
      styles={{ title: { color: "var(--mantine-color-text)" } }}
    >
      <Stack gap="xs">
        <Text size="sm">
          You won't see it again: SprintConnect keeps only a hash of it. Store it in your secret
          manager before you close this.
        </Text>
        <Code block data-testid="secret-value" style={{ wordBreak: "break-all" }}>
          {value}
        </Code>
        <Group>
          <CopyButton value={value}>
            {({ copied, copy }) => (
              <Button size="xs" variant={copied ? "filled" : "light"} onClick={copy}>
                {copied ? "Copied" : `Copy ${label}`}
              </Button>
            )}
          </CopyButton>
        </Group>
      </Stack>
    </Alert>
  );
}
