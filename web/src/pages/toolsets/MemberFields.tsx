import {
  Alert,
  Button,
  Card,
  Center,
  Checkbox,
  Group,
  Loader,
  NativeSelect,
  Radio,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";

import { ProblemError } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import {
  CLASSES,
  impliedClass,
  useServerChoices,
  useServerTools,
  type CapabilityClass,
  type CapabilityItem,
} from "./hooks";
import type { MemberErrors, MemberValues } from "./values";

/** One server of a toolset: which server, which of its tools, under which names and classes. */
export function MemberFields({
  index,
  member,
  taken,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  member: MemberValues;
  taken: Set<string>; // servers other entries already use
  errors: MemberErrors;
  onChange: (member: MemberValues) => void;
  onRemove: () => void;
}) {
  const label = member.server_name ?? `server ${index + 1}`;
  return (
    <Card withBorder padding="sm" data-testid="toolset-member" role="group" aria-label={`Server ${index + 1}`}>
      <Stack gap="sm">
        <Group align="flex-start" gap="sm" wrap="wrap">
          <ServerPicker
            member={member}
            taken={taken}
            error={errors.server_id}
            onPick={(server_id, server_name) =>
              onChange({ ...member, server_id, server_name, tools: [], rename: {}, classes: {} })
            }
          />
          <TextInput
            label="Prefix"
            description="Put before every tool and prompt name, e.g. github_"
            value={member.prefix}
            onChange={(e) => onChange({ ...member, prefix: e.currentTarget.value })}
            error={errors.prefix}
            errorProps={{ style: { whiteSpace: "pre-line" } }}
            autoComplete="off"
            spellCheck={false}
            style={{ flex: "1 1 160px" }}
          />
          <Button
            variant="subtle"
            c="var(--mantine-color-error)"
            color="red.9"
            mt={{ base: 0, sm: 24 }}
            onClick={onRemove}
            aria-label={`Remove ${label} from the toolset`}
          >
            Remove
          </Button>
        </Group>
        {errors.other.length ? (
          <Alert color="red" variant="light" role="alert" p="xs">
            {errors.other.map((m) => (
              <Text size="sm" key={m}>
                {m}
              </Text>
            ))}
          </Alert>
        ) : null}
        {member.server_id ? <ToolChoice member={member} errors={errors} onChange={onChange} /> : null}
        <Group gap="lg">
          <Checkbox
            label="Its prompts too"
            checked={member.prompts}
            onChange={(e) => onChange({ ...member, prompts: e.currentTarget.checked })}
          />
          <Checkbox
            label="Its resources too"
            checked={member.resources}
            onChange={(e) => onChange({ ...member, resources: e.currentTarget.checked })}
          />
        </Group>
      </Stack>
    </Card>
  );
}

function ServerPicker({
  member,
  taken,
  error,
  onPick,
}: {
  member: MemberValues;
  taken: Set<string>;
  error?: string;
  onPick: (id: string, name: string) => void;
}) {
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  // Once a server is chosen the box shows its name: that is not a search.
  const q = debounced === member.server_name ? "" : debounced.trim();
  const choices = useServerChoices(q);
  const items = choices.data?.items ?? [];
  const data = items.map((s) => ({
    value: s.id,
    label: s.name,
    disabled: taken.has(s.id),
  }));
  if (member.server_id && !data.some((d) => d.value === member.server_id)) {
    data.unshift({
      value: member.server_id,
      label: member.server_name ?? "A server you can no longer see",
      disabled: false,
    });
  }
  const environments = new Map(items.map((s) => [s.id, s.environment]));
  return (
    <Select
      label="Server"
      placeholder="Search registered servers"
      required
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      // The API searched already; its matches may be on a description or a tag.
      filter={({ options }) => options}
      data={data}
      value={member.server_id}
      onChange={(value, option) => value && option && onPick(value, option.label)}
      renderOption={({ option }) => (
        <Group gap={6} wrap="nowrap">
          <Text size="sm">{option.label}</Text>
          {environments.get(option.value) ? (
            <Text size="xs" c="dimmed">
              {environments.get(option.value)}
            </Text>
          ) : null}
          {taken.has(option.value) ? (
            <Text size="xs" c="dimmed">
              (already in the toolset)
            </Text>
          ) : null}
        </Group>
      )}
      nothingFoundMessage={choices.isFetching ? "Searching…" : "No server matches"}
      allowDeselect={false}
      error={error}
      style={{ flex: "2 1 220px" }}
    />
  );
}

function ToolChoice({
  member,
  errors,
  onChange,
}: {
  member: MemberValues;
  errors: MemberErrors;
  onChange: (member: MemberValues) => void;
}) {
  const query = useServerTools(member.server_id);
  const notDiscovered =
    query.isError && query.error instanceof ProblemError && query.error.kind === "snapshot-not-found";
  const tools = (query.data?.items ?? []).filter((i) => i.kind === "tool");
  const byName = new Map(tools.map((t) => [t.name, t]));
  // Tools the toolset lists that the latest snapshot lacks stay visible, so they can be removed.
  const gone = member.tools.filter((t) => !byName.has(t));
  const rows: { name: string; tool?: CapabilityItem }[] = [
    ...tools.map((t) => ({ name: t.name, tool: t })),
    ...gone.map((name) => ({ name })),
  ];

  return (
    <Stack gap="xs">
      <Radio.Group
        label="Tools"
        value={member.all ? "all" : "pick"}
        onChange={(v) => onChange({ ...member, all: v === "all" })}
        error={errors.tools}
      >
        <Group gap="lg" mt={4}>
          <Radio value="all" label="All tools (new ones appear after discovery)" />
          <Radio value="pick" label="Only the tools I choose" />
        </Group>
      </Radio.Group>
      {query.isPending ? (
        <Center py="sm">
          <Loader size="sm" role="status" aria-label="Loading the server's tools" />
        </Center>
      ) : notDiscovered ? (
        <Text size="sm" c="dimmed">
          This server's capabilities are not discovered yet, so there are no tools to choose.
          With All tools, the toolset exposes what discovery finds.
        </Text>
      ) : query.isError ? (
        <ProblemAlert error={query.error} title="The server's tools could not be read" />
      ) : rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          The server's latest snapshot lists no tools.
        </Text>
      ) : (
        <ToolTable rows={rows} member={member} errors={errors} onChange={onChange} />
      )}
    </Stack>
  );
}

function ToolTable({
  rows,
  member,
  errors,
  onChange,
}: {
  rows: { name: string; tool?: CapabilityItem }[];
  member: MemberValues;
  errors: MemberErrors;
  onChange: (member: MemberValues) => void;
}) {
  const chosen = new Set(member.tools);
  const toggle = (name: string, on: boolean) =>
    onChange({
      ...member,
      tools: on ? [...member.tools, name] : member.tools.filter((t) => t !== name),
    });
  const rename = (name: string, to: string) => {
    const next = { ...member.rename };
    if (to) next[name] = to;
    else delete next[name];
    onChange({ ...member, rename: next });
  };
  const setClass = (name: string, value: string) => {
    const next = { ...member.classes };
    if (value) next[name] = value as CapabilityClass;
    else delete next[name];
    onChange({ ...member, classes: next });
  };

  return (
    <Table.ScrollContainer minWidth={560}>
      <Table verticalSpacing={4} aria-label={`Tools of ${member.server_name ?? "the server"}`}>
        <Table.Thead>
          <Table.Tr>
            {member.all ? null : <Table.Th w={40}>Use</Table.Th>}
            <Table.Th>Tool</Table.Th>
            <Table.Th>Name clients see</Table.Th>
            <Table.Th>Class</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map(({ name, tool }) => {
            const active = member.all || chosen.has(name);
            const implied = impliedClass(tool);
            return (
              <Table.Tr key={name} data-testid="tool-row" data-name={name}>
                {member.all ? null : (
                  <Table.Td>
                    <Checkbox
                      aria-label={`Use ${name}`}
                      checked={chosen.has(name)}
                      onChange={(e) => toggle(name, e.currentTarget.checked)}
                    />
                  </Table.Td>
                )}
                <Table.Td maw={260}>
                  <Text size="sm" ff="monospace" style={{ wordBreak: "break-all" }}>
                    {name}
                  </Text>
                  {tool ? (
                    tool.description ? (
                      <Text size="xs" c="dimmed" lineClamp={1} title={tool.description}>
                        {tool.description}
                      </Text>
                    ) : null
                  ) : (
                    <Text size="xs" c="var(--mantine-color-error)">
                      Not in the server's latest snapshot
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <TextInput
                    size="xs"
                    aria-label={`Name clients see for ${name}`}
                    placeholder={`${member.prefix}${name}`}
                    value={member.rename[name] ?? ""}
                    onChange={(e) => rename(name, e.currentTarget.value)}
                    disabled={!active}
                    error={errors.rename[name]}
                    autoComplete="off"
                    spellCheck={false}
                  />
                </Table.Td>
                <Table.Td>
                  <NativeSelect
                    size="xs"
                    aria-label={`Class of ${name}`}
                    value={member.classes[name] ?? ""}
                    onChange={(e) => setClass(name, e.currentTarget.value)}
                    disabled={!active}
                    data={[
                      { value: "", label: `Default: ${implied}` },
                      ...CLASSES.map((c) => ({ value: c, label: c })),
                    ]}
                  />
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
