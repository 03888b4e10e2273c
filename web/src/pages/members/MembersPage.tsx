import {
  ActionIcon,
  Badge,
  Button,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { formatDate } from "../../components/time";
import { grantable, useAllRoles } from "./access";
import { AddMemberModal } from "./AddMemberModal";
import { done } from "./ui";
import { LoadMore } from "../../components/LoadMore";

export type Member = components["schemas"]["Member"];
export const MEMBERS_KEY = ["members"] as const;

/** The built-in roles, for when the caller cannot read the organization's roles. */
const BUILT_IN = ["admin", "engineer", "analyst", "viewer"];

type Change =
  | { kind: "assign"; member: Member; role: string }
  | { kind: "unassign"; member: Member; role: string }
  | { kind: "remove"; member: Member };

function who(member: Member): string {
  return member.display_name || member.email;
}

/** Story 1.3: the organization's members, their roles, adding and removing both. */
export default function MembersPage() {
  const session = useSession();
  const mayWrite = session.can("users:write");
  const roles = useAllRoles(mayWrite && session.can("roles:read"));
  const [adding, { open, close }] = useDisclosure(false);
  const client = useQueryClient();

  // What this admin may grant: the roles whose permissions they hold; the built-in names when
  // the roles cannot be read (the server still decides).
  const offered = roles.data
    ? grantable(roles.data, session).map((r) => r.name)
    : roles.isError || !session.can("roles:read")
      ? BUILT_IN
      : [];

  const query = useInfiniteQuery({
    queryKey: MEMBERS_KEY,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/users", { params: { query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  const change = useMutation({
    mutationFn: async (c: Change) => {
      const path = { user_id: c.member.user_id };
      if (c.kind === "remove") {
        await unwrap(api.DELETE("/api/v1/users/{user_id}", { params: { path } }));
        return;
      }
      const rolePath = { params: { path: { ...path, role: c.role } } };
      await unwrap(
        c.kind === "assign"
          ? api.PUT("/api/v1/users/{user_id}/roles/{role}", rolePath)
          : api.DELETE("/api/v1/users/{user_id}/roles/{role}", rolePath),
      );
    },
    onSuccess: (_, c) => {
      const message =
        c.kind === "remove"
          ? `${who(c.member)} is no longer a member; their API keys are revoked.`
          : c.kind === "assign"
            ? `${who(c.member)} now holds ${c.role}, from their next request.`
            : `${who(c.member)} no longer holds ${c.role}.`;
      done(message);
      return client.invalidateQueries({ queryKey: MEMBERS_KEY });
    },
  });
  const run = (c: Change) => change.mutateAsync(c).catch(() => undefined);

  return (
    <>
      <PageHeader
        title="Members"
        description="Everyone in this organization and the roles they hold. Role changes apply on their next request."
        actions={mayWrite ? <Button onClick={open}>Add member</Button> : null}
      />
      {change.isError ? (
        <ProblemAlert error={change.error} title="The change was not made" />
      ) : null}
      <QueryState
        query={query}
        label="Loading members"
        isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
        empty="No members yet."
      >
        {(data) => (
          <Stack gap="sm">
            <Table.ScrollContainer minWidth={760}>
              <Table striped verticalSpacing="xs" aria-label="Members">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Member</Table.Th>
                    <Table.Th>Roles</Table.Th>
                    <Table.Th>Joined</Table.Th>
                    {mayWrite ? (
                      <Table.Th>
                        <VisuallyHidden>Actions</VisuallyHidden>
                      </Table.Th>
                    ) : null}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.pages
                    .flatMap((p) => p.items)
                    .map((member) => (
                      <MemberRow
                        key={member.user_id}
                        member={member}
                        you={member.user_id === session.me.user_id}
                        mayWrite={mayWrite}
                        offered={offered.filter((r) => !member.roles.includes(r))}
                        busy={change.isPending && change.variables?.member.user_id === member.user_id}
                        onChange={run}
                      />
                    ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <LoadMore pages={query} />
          </Stack>
        )}
      </QueryState>
      {mayWrite ? <AddMemberModal opened={adding} onClose={close} roles={offered} /> : null}
    </>
  );
}

function MemberRow({
  member,
  you,
  mayWrite,
  offered,
  busy,
  onChange,
}: {
  member: Member;
  you: boolean;
  mayWrite: boolean;
  offered: string[];
  busy: boolean;
  onChange: (c: Change) => Promise<unknown>;
}) {
  const name = who(member);
  return (
    <Table.Tr data-testid={`member-${member.email}`}>
      <Table.Td>
        <Text size="sm" fw={500}>
          {member.display_name ?? member.email}
          {you ? (
            <Text span size="xs" c="dimmed">
              {" "}
              (you)
            </Text>
          ) : null}
        </Text>
        {member.display_name ? (
          <Text size="xs" c="dimmed">
            {member.email}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Group gap={4} data-testid="member-roles">
          {member.roles.length === 0 ? (
            <Text size="sm" c="dimmed">
              no roles
            </Text>
          ) : null}
          {member.roles.map((role) => (
            <RoleBadge
              key={role}
              role={role}
              member={name}
              removable={mayWrite}
              onRemove={() => onChange({ kind: "unassign", member, role })}
            />
          ))}
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatDate(member.joined_at)}</Text>
      </Table.Td>
      {mayWrite ? (
        <Table.Td>
          <Group gap="xs" wrap="nowrap" justify="flex-end">
            <Select
              aria-label={`Add a role to ${name}`}
              placeholder={offered.length ? "Add role" : "No role to add"}
              data={offered}
              value={null}
              disabled={busy || offered.length === 0}
              onChange={(role) => {
                if (role) void onChange({ kind: "assign", member, role });
              }}
              size="xs"
              w={150}
              comboboxProps={{ withinPortal: true }}
            />
            <ConfirmButton
              size="xs"
              title={`Remove ${name}?`}
              message={`${name} loses access to this organization, and every API key they own here is revoked.`}
              confirmLabel="Remove member"
              onConfirm={() => onChange({ kind: "remove", member })}
            >
              Remove
            </ConfirmButton>
          </Group>
        </Table.Td>
      ) : null}
    </Table.Tr>
  );
}

/** A role the member holds; for an admin, with a button that takes it away after asking. */
function RoleBadge({
  role,
  member,
  removable,
  onRemove,
}: {
  role: string;
  member: string;
  removable: boolean;
  onRemove: () => Promise<unknown>;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const [pending, setPending] = useState(false);
  return (
    <>
      <Badge
        variant="light"
        tt="none"
        pr={removable ? 2 : undefined}
        rightSection={
          removable ? (
            <ActionIcon
              size="xs"
              variant="transparent"
              color="gray"
              radius="xl"
              aria-label={`Remove role ${role} from ${member}`}
              onClick={open}
            >
              <span aria-hidden>×</span>
            </ActionIcon>
          ) : null
        }
      >
        {role}
      </Badge>
      {removable ? (
        <Modal opened={opened} onClose={close} title={`Remove ${role} from ${member}?`} centered>
          <Text size="sm">
            {member} loses the permissions of {role} on their next request, unless another of
            their roles grants them.
          </Text>
          <Group justify="flex-end" mt="md">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={pending}
              onClick={async () => {
                setPending(true);
                await onRemove();
                setPending(false);
                close();
              }}
            >
              Remove role
            </Button>
          </Group>
        </Modal>
      ) : null}
    </>
  );
}
