import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  Modal,
  MultiSelect,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import { ProblemError } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { action, byResource, catalogOf, resourceLabel, ROLES_KEY, type Role } from "./access";
import { done } from "./ui";

const NAME = /^[a-z][a-z0-9_-]{1,62}$/;
const RESERVED = new Set(["admin", "engineer", "analyst", "viewer", "super_admin"]);

export function nameError(name: string): string | undefined {
  if (!name) return "Give the role a name.";
  if (!NAME.test(name))
    return "2 to 63 characters: a lowercase letter, then lowercase letters, digits, _ or -.";
  if (RESERVED.has(name)) return "That name is reserved for a built-in role.";
  return undefined;
}

/** Every role `name` reaches through `extends`, at any depth (for the inherited marks). */
function inherited(extendsList: string[], roles: Role[]): Set<string> {
  const byName = new Map(roles.map((r) => [r.name, r]));
  const permissions = new Set<string>();
  for (const name of extendsList) {
    for (const p of byName.get(name)?.effective_permissions ?? []) permissions.add(p);
  }
  return permissions;
}

/** Create a custom role, or change one: description, permissions, the roles it extends. */
export function RoleFormModal({
  role,
  roles,
  onClose,
}: {
  role?: Role;
  roles: Role[];
  onClose: () => void;
}) {
  const client = useQueryClient();
  const editing = role !== undefined;
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const [parents, setParents] = useState<string[]>(role?.extends ?? []);
  const [error, setError] = useState<string>();

  const catalog = useMemo(() => catalogOf(roles), [roles]);
  const fromParents = useMemo(() => inherited(parents, roles), [parents, roles]);
  const parentOptions = roles.filter((r) => r.name !== role?.name).map((r) => r.name);

  const save = useMutation({
    mutationFn: () => {
      const common = { description: description.trim() || null, permissions, extends: parents };
      return editing
        ? unwrap(api.PATCH("/api/v1/roles/{name}", { params: { path: { name: role.name } }, body: common }))
        : unwrap(api.POST("/api/v1/roles", { body: { name, ...common } }));
    },
    onSuccess: (saved) => {
      done(`The role ${saved.name} is ${editing ? "saved" : "created"}.`);
      onClose();
      return client.invalidateQueries({ queryKey: ROLES_KEY });
    },
  });
  const problem = save.error instanceof ProblemError ? save.error : undefined;

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = editing ? undefined : nameError(name);
    setError(found);
    if (!found) save.mutate();
  }

  return (
    <Modal opened onClose={onClose} title={editing ? `Edit ${role.name}` : "Create a role"} size="xl">
      <form onSubmit={submit} noValidate>
        <Stack>
          {save.isError ? (
            <ProblemAlert error={save.error} title="The role was not saved" />
          ) : null}
          {editing ? null : (
            <TextInput
              label="Name"
              required
              description="Lowercase letters, digits, _ and -; e.g. release-manager."
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={error ?? problem?.fieldMessage("name")}
            />
          )}
          <Textarea
            label="Description"
            autosize
            minRows={2}
            maxLength={1000}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
          />
          <MultiSelect
            label="Extends"
            placeholder={parents.length ? undefined : "Roles it extends"}
            description="The role grants everything these roles grant, and what you tick below."
            data={parentOptions}
            value={parents}
            onChange={setParents}
            searchable
            error={problem?.fieldMessage("extends")}
            comboboxProps={{ withinPortal: true }}
          />
          <Fieldset legend="Permissions of its own">
            {fromParents.size ? (
              <Text size="xs" c="dimmed" mb="xs">
                Marked “inherited”: already granted through the roles it extends.
              </Text>
            ) : null}
            <Checkbox.Group value={permissions} onChange={setPermissions}>
              <SimpleGrid cols={{ base: 1, xs: 2, md: 3 }} spacing="sm" verticalSpacing="sm">
                {byResource(catalog).map(([resource, list]) => (
                  <Stack gap={4} key={resource} role="group" aria-label={resourceLabel(resource)}>
                    <Text size="sm" fw={600}>
                      {resourceLabel(resource)}
                    </Text>
                    {list.map((p) => (
                      <Checkbox
                        key={p}
                        value={p}
                        size="xs"
                        aria-label={p}
                        label={
                          <>
                            {action(p)}
                            {fromParents.has(p) ? (
                              <Text span size="xs" c="dimmed">
                                {" "}
                                (inherited)
                              </Text>
                            ) : null}
                          </>
                        }
                      />
                    ))}
                  </Stack>
                ))}
              </SimpleGrid>
            </Checkbox.Group>
          </Fieldset>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {editing ? "Save role" : "Create role"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
