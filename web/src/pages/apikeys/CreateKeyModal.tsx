import {
  Button,
  Checkbox,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Stack,
  Text,
  TextInput,
  Textarea,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import { fieldPath, ProblemError } from "../../api/problem";
import type { components } from "../../api/schema";
import { useSession } from "../../auth/session";
import { ProblemAlert } from "../../components/ProblemAlert";
import { SecretOnce } from "../../components/SecretOnce";
import { BROAD_SCOPES, byResource, catalogOf, resourceLabel, useAllRoles } from "../members/access";
import { done } from "../members/ui";
import { KEYS_KEY } from "./keys";

type Created = components["schemas"]["ApiKeyCreated"];
type Body = components["schemas"]["ApiKeyCreate"];

interface Errors {
  name?: string;
  scopes?: string;
  days?: string;
}

/** The scopes the API accepts, grouped: the broad ones, then each resource's permissions. */
export function scopeOptions(catalog: string[]) {
  return [
    { group: "Broad scopes", items: BROAD_SCOPES },
    ...byResource(catalog).map(([resource, permissions]) => ({
      group: resourceLabel(resource),
      items: permissions.map((p) => ({ value: p, label: p })),
    })),
  ];
}

export function validate(name: string, scopes: string[], days: number | string, never: boolean) {
  const errors: Errors = {};
  if (!name.trim()) errors.name = "Give the key a name.";
  else if (name.trim().length > 100) errors.name = "At most 100 characters.";
  if (scopes.length === 0) errors.scopes = "Choose at least one scope.";
  if (!never) {
    const n = typeof days === "number" ? days : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 3650) errors.days = "A whole number of days, 1 to 3650.";
  }
  return errors;
}

/** Create a key, then show it this once. */
export function CreateKeyModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { can } = useSession();
  const roles = useAllRoles(can("roles:read"));
  const options = useMemo(() => scopeOptions(catalogOf(roles.data)), [roles.data]);
  const client = useQueryClient();

  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [scopes, setScopes] = useState<string[]>([]);
  const [days, setDays] = useState<number | string>(90);
  const [never, setNever] = useState(false);
  const [errors, setErrors] = useState<Errors>({});

  const create = useMutation({
    mutationFn: (body: Body) => unwrap(api.POST("/api/v1/api-keys", { body })),
    onSuccess: (created: Created) => {
      done(`Key "${created.api_key.name}" is created.`);
      return client.invalidateQueries({ queryKey: KEYS_KEY });
    },
  });
  const created = create.data;
  const problem = create.error instanceof ProblemError ? create.error : undefined;

  function reset() {
    setName("");
    setDescription("");
    setScopes([]);
    setDays(90);
    setNever(false);
    setErrors({});
    create.reset();
  }

  function close() {
    reset();
    onClose();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = validate(name, scopes, days, never);
    setErrors(found);
    if (Object.keys(found).length) return;
    const body: Body = {
      name: name.trim(),
      description: description.trim() || null,
      scopes,
      never_expires: never,
      ...(never ? {} : { expires_in_days: Number(days) }),
    };
    create.mutate(body);
  }

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={created ? "Your new API key" : "Create an API key"}
      size="lg"
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack>
          <Text size="sm">
            <b>{created.api_key.name}</b> is ready, with the scopes {created.api_key.scopes.join(", ")}.
          </Text>
          <SecretOnce label="API key" value={created.key} />
          <Group justify="flex-end">
            <Button onClick={close}>Done, I stored it</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} noValidate>
          <Stack>
            {create.isError && !hasFieldErrors(problem) ? (
              <ProblemAlert error={create.error} title="The key was not created" />
            ) : null}
            <TextInput
              label="Name"
              description="Say where the key is used, e.g. ci-pipeline."
              required
              maxLength={100}
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errors.name ?? problem?.fieldMessage("name")}
            />
            <Textarea
              label="Description"
              autosize
              minRows={2}
              maxLength={1000}
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              error={problem?.fieldMessage("description")}
            />
            <MultiSelect
              label="Scopes"
              description="What the key may be used for. It never acts with more than you may do yourself."
              placeholder={scopes.length ? undefined : "Choose scopes"}
              required
              searchable
              data={options}
              value={scopes}
              onChange={setScopes}
              error={errors.scopes ?? problem?.fieldMessage("scopes")}
              comboboxProps={{ withinPortal: true }}
            />
            <Group align="flex-start" wrap="wrap">
              <NumberInput
                label="Expires in (days)"
                min={1}
                max={3650}
                allowDecimal={false}
                disabled={never}
                value={days}
                onChange={setDays}
                error={never ? undefined : (errors.days ?? problem?.fieldMessage("expires_in_days"))}
                w={200}
              />
              <Checkbox
                mt={{ base: 0, xs: 32 }}
                label="Never expires"
                checked={never}
                onChange={(e) => setNever(e.currentTarget.checked)}
              />
            </Group>
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create key
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

/** Whether every field error of a 422 is shown beside its field (else the alert shows them). */
function hasFieldErrors(problem: ProblemError | undefined): boolean {
  if (!problem?.problem.errors?.length) return false;
  const shown = ["name", "description", "scopes", "expires_in_days"];
  return problem.problem.errors.every((e) => shown.includes(fieldPath(e)));
}
