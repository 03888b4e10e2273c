import { Badge, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";

import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { formatDate } from "../../components/time";

/** Story 1.1: who you are signed in as, in which organization, with which roles. */
export default function Overview() {
  const { session, me } = useSession();
  return (
    <>
      <PageHeader
        title={`Welcome${me.name ? `, ${me.name}` : ""}`}
        description="Your profile and this browser session."
      />
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Card withBorder padding="lg" aria-labelledby="profile-title">
          <Title order={2} size="h4" id="profile-title" mb="sm">
            Profile
          </Title>
          <Stack gap={6}>
            <Field label="Name" value={me.name ?? "—"} testId="profile-name" />
            <Field label="Email" value={me.email ?? "—"} testId="profile-email" />
            <Field label="Organization" value={`${me.org_name} (${me.org_slug})`} testId="profile-org" />
            <Group gap="xs">
              <Text size="sm" c="dimmed" w={110}>
                Roles
              </Text>
              <Group gap={4} data-testid="profile-roles">
                {me.roles.length ? (
                  me.roles.map((r) => (
                    <Badge key={r} variant="light">
                      {r}
                    </Badge>
                  ))
                ) : (
                  <Text size="sm">none</Text>
                )}
              </Group>
            </Group>
          </Stack>
        </Card>
        <Card withBorder padding="lg" aria-labelledby="session-title">
          <Title order={2} size="h4" id="session-title" mb="sm">
            Session
          </Title>
          <Stack gap={6}>
            <Field label="Signed in" value={formatDate(session.authenticated_at)} />
            <Field label="Idle until" value={formatDate(session.idle_expires_at)} />
            <Field label="Ends at" value={formatDate(session.expires_at)} />
            <Field label="Permissions" value={`${me.permissions.length}`} />
          </Stack>
        </Card>
      </SimpleGrid>
    </>
  );
}

function Field({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" c="dimmed" w={110}>
        {label}
      </Text>
      <Text size="sm" data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}
