import { Badge, Button, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { EmptyState, QueryState } from "../../components/QueryState";
import { action, byResource, catalogOf, resourceLabel, ROLES_KEY, useAllRoles, type Role } from "./access";
import { RoleFormModal } from "./RoleFormModal";
import { done } from "./ui";

/** Story 1.3: the built-in roles and the organization's own, with inheritance. */
export default function RolesPage() {
  const { can } = useSession();
  const mayWrite = can("roles:write");
  const query = useAllRoles();
  const client = useQueryClient();
  // null: closed; "new": creating; a role: editing it.
  const [editing, setEditing] = useState<Role | "new" | null>(null);

  const remove = useMutation({
    mutationFn: (name: string) =>
      unwrap(api.DELETE("/api/v1/roles/{name}", { params: { path: { name } } })),
    onSuccess: (_, name) => {
      done(`The role ${name} is deleted.`);
      return client.invalidateQueries({ queryKey: ROLES_KEY });
    },
  });

  return (
    <>
      <PageHeader
        title="Roles"
        description="A member's permissions are everything their roles grant, including the roles those extend."
        actions={mayWrite ? <Button onClick={() => setEditing("new")}>Create role</Button> : null}
      />
      {remove.isError ? <ProblemAlert error={remove.error} title="The role was not deleted" /> : null}
      <QueryState query={query} label="Loading roles">
        {(roles) => {
          const builtIn = roles.filter((r) => r.built_in);
          const custom = roles.filter((r) => !r.built_in);
          const catalog = catalogOf(roles);
          return (
            <Stack gap="xl">
              <section aria-labelledby="custom-roles">
                <Title order={2} size="h3" id="custom-roles" mb="sm">
                  Custom roles
                </Title>
                {custom.length === 0 ? (
                  <EmptyState>
                    No custom roles yet.
                    {mayWrite ? " Create one to grant a set of permissions of your own choosing." : ""}
                  </EmptyState>
                ) : (
                  <CustomRoles
                    roles={custom}
                    mayWrite={mayWrite}
                    deleting={remove.isPending ? remove.variables : undefined}
                    onEdit={setEditing}
                    onDelete={(name) => remove.mutateAsync(name).catch(() => undefined)}
                  />
                )}
              </section>
              <section aria-labelledby="built-in-roles">
                <Title order={2} size="h3" id="built-in-roles" mb={4}>
                  Built-in roles
                </Title>
                <Text size="sm" c="dimmed" mb="sm">
                  Every organization has these; they cannot be changed or deleted.
                </Text>
                <SimpleGrid cols={{ base: 1, md: 2 }}>
                  {builtIn.map((role) => (
                    <Card key={role.name} withBorder padding="md" data-testid={`role-${role.name}`}>
                      <Group justify="space-between" mb={4}>
                        <Title order={3} size="h5">
                          {role.name}
                        </Title>
                        <Badge variant="light" color="gray" tt="none">
                          {role.effective_permissions.length} permissions
                        </Badge>
                      </Group>
                      {role.description ? (
                        <Text size="sm" c="dimmed" mb="xs">
                          {role.description}
                        </Text>
                      ) : null}
                      <PermissionSummary permissions={role.effective_permissions} catalog={catalog} />
                    </Card>
                  ))}
                </SimpleGrid>
              </section>
            </Stack>
          );
        }}
      </QueryState>
      {mayWrite && editing !== null && query.data ? (
        <RoleFormModal
          role={editing === "new" ? undefined : editing}
          roles={query.data}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </>
  );
}

function CustomRoles({
  roles,
  mayWrite,
  deleting,
  onEdit,
  onDelete,
}: {
  roles: Role[];
  mayWrite: boolean;
  deleting?: string;
  onEdit: (role: Role) => void;
  onDelete: (name: string) => Promise<unknown>;
}) {
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table striped verticalSpacing="sm" aria-label="Custom roles">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Role</Table.Th>
            <Table.Th>Extends</Table.Th>
            <Table.Th>Own permissions</Table.Th>
            <Table.Th>In all</Table.Th>
            {mayWrite ? <Table.Th>Actions</Table.Th> : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {roles.map((role) => (
            <Table.Tr key={role.name} data-testid={`role-${role.name}`}>
              <Table.Td maw={260}>
                <Text size="sm" fw={600}>
                  {role.name}
                </Text>
                {role.description ? (
                  <Text size="xs" c="dimmed" lineClamp={3}>
                    {role.description}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {role.extends.length ? (
                    role.extends.map((r) => (
                      <Badge key={r} variant="outline" tt="none">
                        {r}
                      </Badge>
                    ))
                  ) : (
                    <Text size="sm" c="dimmed">
                      —
                    </Text>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>
                {role.permissions.length ? (
                  <PermissionSummary permissions={role.permissions} />
                ) : (
                  <Text size="sm" c="dimmed">
                    none
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" title={role.effective_permissions.join(", ")}>
                  {role.effective_permissions.length} permissions
                </Text>
              </Table.Td>
              {mayWrite ? (
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Button size="xs" variant="default" onClick={() => onEdit(role)}>
                      Edit
                    </Button>
                    <ConfirmButton
                      size="xs"
                      title={`Delete the role ${role.name}?`}
                      message="Only a role no member holds and no role extends can be deleted."
                      confirmLabel="Delete role"
                      loading={deleting === role.name}
                      onConfirm={() => onDelete(role.name)}
                    >
                      Delete
                    </ConfirmButton>
                  </Group>
                </Table.Td>
              ) : null}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Permissions by resource, one line each: "Servers: read, write, production". */
function PermissionSummary({ permissions, catalog }: { permissions: string[]; catalog?: string[] }) {
  const ordered = catalog ? catalog.filter((p) => permissions.includes(p)) : permissions;
  const extra = catalog ? permissions.filter((p) => !catalog.includes(p)) : [];
  return (
    <Stack gap={0}>
      {byResource([...ordered, ...extra]).map(([resource, list]) => (
        <Text size="xs" key={resource}>
          <Text span fw={600} size="xs">
            {resourceLabel(resource)}:
          </Text>{" "}
          {list.map(action).join(", ")}
        </Text>
      ))}
    </Stack>
  );
}
