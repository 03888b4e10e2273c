import { Badge, Button, Group, Stack, Table, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { useInvalidatePolicies, useMembers, useVersions, type PolicyVersion } from "./data";
import { withoutFields } from "../../api/problem";
import { CLOSE } from "./tone";

/** Who published a version, as a person reads it. */
export function useAuthorName(): (userId: string | null) => string {
  const { me } = useSession();
  const members = useMembers();
  const emails = new Map((members.data?.items ?? []).map((m) => [m.user_id, m.display_name ?? m.email]));
  return (userId) => {
    if (!userId) return "an API key";
    if (userId === me.user_id) return `${me.name ?? me.email ?? "you"} (you)`;
    return emails.get(userId) ?? `member ${userId.slice(0, 8)}`;
  };
}

export function VersionHistory({
  current,
  onCompare,
}: {
  current: number;
  onCompare: (from: number, to: number) => void;
}) {
  const versions = useVersions();
  const { can } = useSession();
  const author = useAuthorName();
  const invalidate = useInvalidatePolicies();
  const rollback = useMutation({
    mutationFn: (version: number) =>
      unwrap(api.POST("/api/v1/policies/rollback", { body: { version } })),
    onSuccess: async (made) => {
      notifications.show({
        color: "green",
        closeButtonProps: CLOSE,
        message: `Rolled back: version ${made.version} has the text of version ${made.rolled_back_from}.`,
      });
      await invalidate();
    },
  });

  return (
    <QueryState
      query={versions}
      isEmpty={(d) => d.pages[0]?.items.length === 0}
      empty="No policy has been published yet: only the base rules apply."
      label="Loading the version history"
    >
      {(data) => {
        const rows = data.pages.flatMap((p) => p.items);
        return (
          <Stack gap="sm">
            {rollback.isError ? <ProblemAlert error={withoutFields(rollback.error)} title="Rollback failed" /> : null}
            <Table.ScrollContainer minWidth={760}>
              <Table striped verticalSpacing="xs" aria-label="Policy versions">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Version</Table.Th>
                    <Table.Th>Author</Table.Th>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Note</Table.Th>
                    <Table.Th>Actions</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((v) => (
                    <VersionRow
                      key={v.version}
                      version={v}
                      current={current}
                      author={author(v.created_by_user_id)}
                      canWrite={can("policies:write")}
                      onCompare={onCompare}
                      onRollback={() => rollback.mutateAsync(v.version).catch(() => undefined)}
                      rollingBack={rollback.isPending && rollback.variables === v.version}
                    />
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {versions.hasNextPage ? (
              <Group justify="center">
                <Button
                  variant="default"
                  onClick={() => void versions.fetchNextPage()}
                  loading={versions.isFetchingNextPage}
                >
                  Load older versions
                </Button>
              </Group>
            ) : null}
          </Stack>
        );
      }}
    </QueryState>
  );
}

function VersionRow({
  version: v,
  current,
  author,
  canWrite,
  onCompare,
  onRollback,
  rollingBack,
}: {
  version: PolicyVersion;
  current: number;
  author: string;
  canWrite: boolean;
  onCompare: (from: number, to: number) => void;
  onRollback: () => Promise<unknown>;
  rollingBack: boolean;
}) {
  const isCurrent = v.version === current;
  return (
    <Table.Tr data-testid={`version-${v.version}`}>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Text fw={600} size="sm">
            v{v.version}
          </Text>
          {isCurrent ? (
            <Badge size="sm" color="green" variant="dot">
              in force
            </Badge>
          ) : null}
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{author}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm" title={formatDate(v.created_at)}>
          {formatDate(v.created_at)}
        </Text>
        <Text size="xs" c="dimmed">
          {fromNow(v.created_at)}
        </Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{v.comment ?? "—"}</Text>
        {v.rolled_back_from ? (
          <Text size="xs" c="dimmed">
            Rollback to version {v.rolled_back_from}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          {v.version > 1 ? (
            <Button
              size="xs"
              variant="default"
              onClick={() => onCompare(v.version - 1, v.version)}
              aria-label={`Changes in version ${v.version}`}
            >
              Changes
            </Button>
          ) : null}
          {canWrite && !isCurrent ? (
            <ConfirmButton
              size="xs"
              variant="default"
              title={`Roll back to version ${v.version}?`}
              message={`Version ${v.version}'s text becomes a new version and takes effect on the next request. Version ${current} stays in the history.`}
              confirmLabel={`Roll back to v${v.version}`}
              onConfirm={onRollback}
              loading={rollingBack}
              aria-label={`Roll back to version ${v.version}`}
            >
              Roll back
            </ConfirmButton>
          ) : null}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

