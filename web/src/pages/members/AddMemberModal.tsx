import { Button, Group, Modal, MultiSelect, Stack, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import { ProblemError } from "../../api/problem";
import type { components } from "../../api/schema";
import { ProblemAlert } from "../../components/ProblemAlert";
import { done } from "./ui";

type Body = components["schemas"]["MemberCreate"];

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Add a member by email, with the roles this admin may grant. */
export function AddMemberModal({
  opened,
  onClose,
  roles,
}: {
  opened: boolean;
  onClose: () => void;
  roles: string[];
}) {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [emailError, setEmailError] = useState<string>();

  const add = useMutation({
    mutationFn: (body: Body) => unwrap(api.POST("/api/v1/users", { body })),
    onSuccess: (member) => {
      done(`${member.email} is now a member.`);
      close();
      return client.invalidateQueries({ queryKey: ["members"] });
    },
  });
  const problem = add.error instanceof ProblemError ? add.error : undefined;

  function close() {
    setEmail("");
    setDisplayName("");
    setChosen([]);
    setEmailError(undefined);
    add.reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = email.trim();
    const error = !value
      ? "Enter the member's email address."
      : EMAIL.test(value)
        ? undefined
        : "Enter an email address such as dana@example.com.";
    setEmailError(error);
    if (error) return;
    add.mutate({ email: value, display_name: displayName.trim() || null, roles: chosen });
  }

  return (
    <Modal opened={opened} onClose={close} title="Add a member" size="md">
      <form onSubmit={submit} noValidate>
        <Stack>
          {add.isError && !problem?.fieldMessage("email") ? (
            <ProblemAlert error={add.error} title="The member was not added" />
          ) : null}
          <TextInput
            label="Email"
            type="email"
            required
            maxLength={320}
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={emailError ?? problem?.fieldMessage("email")}
            description="They sign in with this address; a new user is created if needed."
          />
          <TextInput
            label="Display name"
            maxLength={200}
            value={displayName}
            onChange={(e) => setDisplayName(e.currentTarget.value)}
          />
          <MultiSelect
            label="Roles"
            description="Only roles whose permissions you hold yourself. None: they can sign in but do nothing yet."
            data={roles}
            value={chosen}
            onChange={setChosen}
            searchable
            comboboxProps={{ withinPortal: true }}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={add.isPending}>
              Add member
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
