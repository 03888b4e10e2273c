import {
  Alert,
  Autocomplete,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Divider,
  Group,
  List,
  Loader,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { ProblemAlert } from "../../components/ProblemAlert";
import { authDraft, authToSend, type AuthDraft, type AuthErrors } from "./list/auth";
import { AuthFields } from "./list/AuthFields";
import { ConnectionCheck } from "./list/ConnectionCheck";
import { options, TRANSPORT_LABELS, type Transport } from "./list/labels";
import { fieldErrors, fieldMessages } from "../../api/problem";
import { nameTaken } from "./list/problems";
import { CLOSE, outcomeStyles, useStrongPrimary } from "./list/ui";
import "./list/servers.css";
import {
  ENVIRONMENTS,
  environmentProblem,
  MAX_TAGS,
  nameProblem,
  tagsProblem,
  urlProblem,
} from "./list/validation";

export type Server = components["schemas"]["Server"];
type Registered = components["schemas"]["ServerRegistered"];
type ServerCreate = components["schemas"]["ServerCreate"];
type ServerUpdate = components["schemas"]["ServerUpdate"];

/**
 * Register a server (no `server`) or change one (with `server`), in a modal. After a
 * registration the modal shows the new server's id, the next steps and a connection check;
 * after an edit it closes.
 */
export function ServerFormModal({
  opened,
  onClose,
  server,
  onSaved,
}: {
  opened: boolean;
  onClose: () => void;
  server?: Server;
  onSaved?: (server: Server) => void;
}) {
  const small = useMediaQuery("(max-width: 36em)");
  const [registered, setRegistered] = useState<Registered | null>(null);
  const close = () => {
    setRegistered(null);
    onClose();
  };
  const title = registered
    ? "Server registered"
    : server
      ? `Edit ${server.name}`
      : "Register a server";
  return (
    <Modal
      opened={opened}
      onClose={close}
      title={title}
      size="lg"
      fullScreen={small}
      closeButtonProps={CLOSE}
    >
      {!opened ? null : registered ? (
        <RegisteredStep registered={registered} onClose={close} />
      ) : (
        <ServerFormBody
          key={server?.id ?? "new"}
          server={server}
          onCancel={close}
          onSaved={(saved, answer) => {
            onSaved?.(saved);
            if (answer) setRegistered(answer);
            else close();
          }}
        />
      )}
    </Modal>
  );
}

const FORM_FIELDS = ["name", "url", "environment", "transport", "tags", "description", "auth"];

function ServerFormBody({
  server,
  onCancel,
  onSaved,
}: {
  server?: Server;
  onCancel: () => void;
  onSaved: (server: Server, registered?: Registered) => void;
}) {
  const client = useQueryClient();
  const primary = useStrongPrimary();
  const [name, setName] = useState(server?.name ?? "");
  const [url, setUrl] = useState(server?.url ?? "");
  const [environment, setEnvironment] = useState(server?.environment ?? "development");
  const [transport, setTransport] = useState<Transport>(server?.transport ?? "streamable_http");
  const [tags, setTags] = useState<string[]>(server?.tags ?? []);
  const [description, setDescription] = useState(server?.description ?? "");
  const [autoDiscover, setAutoDiscover] = useState(server?.auto_discover ?? true);
  const [auth, setAuth] = useState<AuthDraft>(authDraft(server?.auth));
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);

  const save = useMutation({
    mutationFn: async (sent: ServerCreate | ServerUpdate) => {
      if (server) {
        const updated = await unwrap(
          api.PATCH("/api/v1/servers/{server_id}", {
            params: { path: { server_id: server.id } },
            body: sent as ServerUpdate,
          }),
        );
        return { server: updated, registered: undefined };
      }
      const registered = await unwrap(api.POST("/api/v1/servers", { body: sent as ServerCreate }));
      return { server: registered.server, registered };
    },
    onSuccess: async (result) => {
      await client.invalidateQueries({ queryKey: ["servers"] });
      // A registration is confirmed in the modal itself; an edit closes it, so it is said here.
      if (server) {
        notifications.show({
          closeButtonProps: CLOSE,
          color: "green",
          title: "Server saved",
          message: result.server.name,
        });
      }
      onSaved(result.server, result.registered);
    },
  });

  // Every change clears the answer the API gave to the previous attempt.
  const edit =
    <T,>(setter: (value: T) => void, field: string) =>
    (value: T) => {
      setter(value);
      setTouched((t) => (t[field] ? t : { ...t, [field]: true }));
      if (save.isError) save.reset();
    };

  // The name must be free in its environment: asked as the person types (exact-name filter).
  const [checkedName] = useDebouncedValue(name.trim(), 300);
  const [checkedEnvironment] = useDebouncedValue(environment, 300);
  const unchanged =
    server !== undefined &&
    checkedName.toLowerCase() === server.name.toLowerCase() &&
    checkedEnvironment === server.environment;
  const nameCheck = useQuery({
    queryKey: ["servers", "name-free", checkedEnvironment, checkedName.toLowerCase()],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/servers", {
          params: { query: { name: checkedName, environment: checkedEnvironment, limit: 1 } },
          signal,
        }),
      ),
    enabled:
      !unchanged &&
      nameProblem(checkedName) === null &&
      environmentProblem(checkedEnvironment) === null,
    staleTime: 10_000,
  });
  const current = checkedName === name.trim() && checkedEnvironment === environment;
  const clash = current ? nameCheck.data?.items.find((s) => s.id !== server?.id) : undefined;

  const show = (field: string) => submitted || touched[field];
  const errors = {
    name:
      nameTaken(save.error) ??
      fieldMessages(save.error, "name")[0] ??
      (show("name") ? nameProblem(name) : null) ??
      (clash
        ? `A server named “${clash.name}” already exists in ${clash.environment}. Choose another name.`
        : null),
    // The URL is checked as it is typed, from the first character.
    url: fieldMessages(save.error, "url")[0] ?? (url || submitted ? urlProblem(url) : null),
    environment: fieldMessages(save.error, "environment")[0] ?? environmentProblem(environment),
    transport: fieldMessages(save.error, "transport")[0],
    tags: fieldMessages(save.error, "tags")[0] ?? tagsProblem(tags),
    description:
      fieldMessages(save.error, "description")[0] ??
      (description.length > 2000 ? "At most 2000 characters." : null),
  };
  const serverAuthErrors: AuthErrors = {};
  for (const e of fieldErrors(save.error)) {
    const [head, ...rest] = e.field.split(".");
    const last = rest[rest.length - 1];
    if (head === "auth" && last) serverAuthErrors[last as keyof AuthDraft] = e.message;
  }
  const mapped =
    nameTaken(save.error) !== undefined ||
    (fieldErrors(save.error).length > 0 &&
      fieldErrors(save.error).every((e) => {
        const [head, second] = e.field.split(".");
        return FORM_FIELDS.includes(head ?? "") && (head !== "auth" || second !== undefined);
      }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    const chosen = authToSend(auth, server?.auth);
    const clientErrors = [
      nameProblem(name),
      urlProblem(url),
      environmentProblem(environment),
      tagsProblem(tags),
      errors.description,
      clash ? "taken" : null,
    ].filter(Boolean);
    if (clientErrors.length || Object.keys(chosen.errors).length) return;
    const body: ServerCreate = {
      name: name.trim(),
      url: url.trim(),
      environment,
      transport,
      tags,
      description: description.trim() || null,
      auto_discover: autoDiscover,
      ...(chosen.auth ? { auth: chosen.auth } : {}),
    };
    if (!server) {
      save.mutate(body);
      return;
    }
    const changes: ServerUpdate = {};
    if (body.name !== server.name) changes.name = body.name;
    if (body.url !== server.url) changes.url = body.url;
    if (body.environment !== server.environment) changes.environment = body.environment;
    if (body.transport !== server.transport) changes.transport = body.transport;
    if ((body.tags ?? []).join(",") !== (server.tags ?? []).join(",")) changes.tags = body.tags;
    if ((body.description ?? null) !== (server.description ?? null)) {
      changes.description = body.description ?? null;
    }
    if (body.auto_discover !== server.auto_discover) changes.auto_discover = body.auto_discover;
    if (chosen.auth) changes.auth = chosen.auth;
    if (Object.keys(changes).length === 0) {
      onCancel();
      return;
    }
    save.mutate(changes);
  };

  return (
    <form onSubmit={submit} noValidate className="sc-servers-fields">
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <TextInput
            label="Name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => edit(setName, "name")(e.currentTarget.value)}
            error={errors.name}
            rightSection={nameCheck.isFetching ? <Loader size="xs" role="status" aria-label="Checking the name" /> : null}
            data-autofocus
          />
          <Autocomplete
            label="Environment"
            required
            data={ENVIRONMENTS}
            value={environment}
            onChange={edit(setEnvironment, "environment")}
            error={errors.environment}
          />
        </SimpleGrid>
        <TextInput
          label="URL"
          description="The server's MCP endpoint, e.g. https://mcp.example.com/mcp"
          required
          value={url}
          onChange={(e) => edit(setUrl, "url")(e.currentTarget.value)}
          error={errors.url}
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
        />
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          <Select
            label="Transport"
            data={options(TRANSPORT_LABELS)}
            value={transport}
            onChange={(v) => v && edit(setTransport, "transport")(v as Transport)}
            allowDeselect={false}
            error={errors.transport}
          />
          <Checkbox
            label="Discover capabilities after saving"
            checked={autoDiscover}
            onChange={(e) => edit(setAutoDiscover, "auto_discover")(e.currentTarget.checked)}
            mt={{ base: 0, sm: 30 }}
          />
        </SimpleGrid>
        <TagsInput
          label="Tags"
          description={`Lowercase letters, digits and hyphens; press Enter after each (at most ${MAX_TAGS}).`}
          value={tags}
          onChange={(v) =>
            edit(setTags, "tags")([...new Set(v.map((t) => t.trim().toLowerCase()).filter(Boolean))])
          }
          error={errors.tags}
        />
        <Textarea
          label="Description"
          rows={2}
          resize="vertical"
          value={description}
          onChange={(e) => edit(setDescription, "description")(e.currentTarget.value)}
          error={errors.description}
        />
        <Divider />
        <AuthFields
          draft={auth}
          stored={server?.auth}
          onChange={edit(setAuth, "auth")}
          errors={{ ...(submitted ? authToSend(auth, server?.auth).errors : {}), ...serverAuthErrors }}
        />
        {save.isError && !mapped ? <ProblemAlert error={save.error} /> : null}
        <Group justify="flex-end" mt="xs">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending} color={primary}>
            {server ? "Save" : "Register"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The confirmation: the new server's id, what happens next, and a connection check. */
function RegisteredStep({ registered, onClose }: { registered: Registered; onClose: () => void }) {
  const { server } = registered;
  const primary = useStrongPrimary();
  return (
    <Stack gap="md">
      <Alert variant="default" styles={outcomeStyles("green")} title={`${server.name} is registered`}>
        <Stack gap={6}>
          <Group gap="xs" wrap="wrap">
            <Text size="sm">Server ID</Text>
            <Code data-testid="registered-id">{server.id}</Code>
            <CopyButton value={server.id}>
              {({ copied, copy }) => (
                <Button size="compact-xs" variant="subtle" onClick={copy}>
                  {copied ? "Copied" : "Copy ID"}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Text size="sm">
            {registered.discovery_id
              ? "Capability discovery is queued; the server's page shows its progress."
              : "Capability discovery is off; start it from the server's page."}
          </Text>
        </Stack>
      </Alert>
      <Stack gap={4}>
        <Title order={2} size="h5">
          Next steps
        </Title>
        <List size="sm" spacing={2}>
          {registered.next_steps.map((step) => (
            <List.Item key={step}>
              <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                {step}
              </Text>
            </List.Item>
          ))}
        </List>
      </Stack>
      <Stack gap={4}>
        <Title order={2} size="h5">
          Connection check
        </Title>
        <Text size="sm" c="dimmed">
          Connect to the server with its credentials and run MCP&apos;s initialize.
        </Text>
        <ConnectionCheck serverId={server.id} />
      </Stack>
      <Group justify="flex-end">
        <Button variant="default" component={Link} to={`/servers/${server.id}`} onClick={onClose}>
          Open server
        </Button>
        <Button onClick={onClose} color={primary}>
          Done
        </Button>
      </Group>
    </Stack>
  );
}
