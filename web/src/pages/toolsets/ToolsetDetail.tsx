import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  List,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { LINK } from "../audit/tones";
import { Copy } from "./Copy";
import {
  clientConfig,
  endpointUrl,
  KEY_PLACEHOLDER,
  toolsetKey,
  TOOLSETS_KEY,
  useExposedTools,
  useToolset,
  type Exposed,
  type Toolset,
  type ToolsetMember,
} from "./hooks";

const CLOSE = { "aria-label": "Close notification" };

/** One toolset: its endpoint, what its clients see, how to connect one; edit and delete. */
export default function ToolsetDetail() {
  const { toolsetId = "" } = useParams();
  const query = useToolset(toolsetId);
  return (
    <>
      <Anchor {...LINK} component={Link} to="/toolsets" size="sm">
        ← All toolsets
      </Anchor>
      <QueryState query={query} label="Loading the toolset">
        {(toolset) => <Loaded toolset={toolset} />}
      </QueryState>
    </>
  );
}

function Loaded({ toolset }: { toolset: Toolset }) {
  const { can } = useSession();
  const mayWrite = can("toolsets:write");
  const client = useQueryClient();
  const navigate = useNavigate();
  const url = endpointUrl(toolset.endpoint);
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/toolsets/{toolset_id}", { params: { path: { toolset_id: toolset.id } } })),
    onSuccess: async () => {
      notifications.show({ closeButtonProps: CLOSE, color: "green", message: `Toolset ${toolset.name} is deleted.` });
      client.removeQueries({ queryKey: toolsetKey(toolset.id) });
      await client.invalidateQueries({ queryKey: [...TOOLSETS_KEY, "list"] });
      await navigate("/toolsets");
    },
  });

  return (
    <Stack gap="md" mt="xs">
      <PageHeader
        title={toolset.name}
        description={toolset.description || undefined}
        actions={
          mayWrite ? (
            <>
              <Button component={Link} to={`/toolsets/${toolset.id}/edit`}>
                Edit
              </Button>
              <ConfirmButton
                title={`Delete ${toolset.name}?`}
                message={`Its endpoint stops answering at once: clients connected to ${url} get 404. The servers and their tools stay registered.`}
                confirmLabel="Delete toolset"
                loading={remove.isPending}
                onConfirm={() => remove.mutateAsync().catch(() => undefined)}
              >
                Delete
              </ConfirmButton>
            </>
          ) : null
        }
      />
      {remove.isError ? <ProblemAlert error={remove.error} title="The toolset was not deleted" /> : null}
      <Card withBorder padding="md" aria-labelledby="endpoint-title">
        <Title order={2} size="h4" id="endpoint-title" mb="xs">
          Endpoint
        </Title>
        <Text size="sm" mb="xs">
          An MCP server over streamable HTTP. Clients authenticate with an API key or an access
          token of your organization{toolset.timeout_seconds ? `; one tool call may take up to ${toolset.timeout_seconds} s` : ""}.
        </Text>
        <Group gap="xs" wrap="nowrap" align="flex-start">
          <Code data-testid="endpoint-url" style={{ wordBreak: "break-all" }}>
            {url}
          </Code>
          <Copy value={url} label="Copy URL" name="the endpoint" />
        </Group>
      </Card>
      <ExposedCard toolset={toolset} />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <ConnectCard toolset={toolset} url={url} />
        <MembersCard members={toolset.servers} />
      </SimpleGrid>
    </Stack>
  );
}

function ExposedCard({ toolset }: { toolset: Toolset }) {
  const query = useExposedTools(toolset.id);
  return (
    <Card withBorder padding="md" aria-labelledby="exposed-title">
      <Title order={2} size="h4" id="exposed-title" mb="xs">
        What clients see
      </Title>
      <QueryState
        query={query}
        label="Loading the exposed tools"
        isEmpty={(data) => data.tools.length === 0 && data.missing.length === 0}
        empty="No tools yet: add servers to the toolset, or discover the capabilities of its servers."
      >
        {(data) => <Exposure data={data} toolset={toolset} />}
      </QueryState>
    </Card>
  );
}

function Exposure({ data, toolset }: { data: Exposed; toolset: Toolset }) {
  const names = new Map(toolset.servers.map((m) => [m.server_id, m.server_name]));
  const collided = data.tools.some((t) => t.renamed_for_collision);
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        {data.tools.length} tool{data.tools.length === 1 ? "" : "s"}, under the names an MCP client
        lists. The class sets which rate limit a call counts against.
      </Text>
      {data.missing.length ? (
        <Alert
          color="yellow"
          variant="light"
          title="Tools the toolset lists that their server no longer has"
          styles={{ title: { color: "var(--mantine-color-text)" } }}
          data-testid="missing-tools"
        >
          <Text size="sm">
            The latest discovery did not find them, so clients do not see them. Edit the toolset
            to remove them, or discover the server again if they should be back.
          </Text>
          <List size="sm" mt="xs">
            {data.missing.map((m) => (
              <List.Item key={`${m.server_id}:${m.tool}`}>
                <Code>{m.tool}</Code> on {names.get(m.server_id ?? "") ?? "a server you can no longer see"}
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      {data.tools.length ? (
        <Table.ScrollContainer minWidth={640}>
          <Table striped verticalSpacing="xs" aria-label="Exposed tools">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name clients see</Table.Th>
                <Table.Th>Tool on the server</Table.Th>
                <Table.Th>Server</Table.Th>
                <Table.Th>Class</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.tools.map((t) => (
                <Table.Tr key={t.name} data-testid="exposed-tool" data-name={t.name}>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm" ff="monospace" fw={600}>
                        {t.name}
                      </Text>
                      {t.renamed_for_collision ? (
                        <Badge
                          size="sm"
                          variant="dot"
                          color="orange"
                          tt="none"
                          data-testid="collision-marker"
                          title={`Another server of the toolset exposes ${t.upstream_name} first, so this one carries its server's name.`}
                        >
                          renamed: name clash
                        </Badge>
                      ) : null}
                    </Group>
                    {t.description ? (
                      <Text size="xs" c="dimmed" lineClamp={1} title={t.description}>
                        {t.description}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {t.upstream_name}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Anchor {...LINK} component={Link} to={`/servers/${t.server_id}`} size="sm">
                      {t.server_name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Badge size="sm" variant="dot" color={CLASS_COLOURS[t.capability_class] ?? "gray"} tt="none">
                      {t.capability_class}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {collided ? (
        <Text size="xs" c="dimmed">
          A tool marked “renamed: name clash” has a name another server of the toolset uses too.
          Give one of the servers a prefix, or rename the tool, to choose its name yourself.
        </Text>
      ) : null}
    </Stack>
  );
}

const CLASS_COLOURS: Record<string, string> = { read: "blue", write: "grape", expensive: "orange" };

function ConnectCard({ toolset, url }: { toolset: Toolset; url: string }) {
  const config = clientConfig(toolset.name, url);
  return (
    <Card withBorder padding="md" aria-labelledby="connect-title">
      <Title order={2} size="h4" id="connect-title" mb="xs">
        Connect a client
      </Title>
      <Text size="sm" mb="xs">
        Add this to your MCP client's configuration, then replace <Code>{KEY_PLACEHOLDER}</Code>{" "}
        with a key from{" "}
        <Anchor {...LINK} component={Link} to="/api-keys" size="sm">
          API keys
        </Anchor>
        . The key's permissions and your policies decide which calls go through.
      </Text>
      <Code block data-testid="client-config" style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
        {config}
      </Code>
      <Group mt="xs">
        <Copy value={config} label="Copy configuration" />
      </Group>
    </Card>
  );
}

function MembersCard({ members }: { members: ToolsetMember[] }) {
  return (
    <Card withBorder padding="md" aria-labelledby="members-title">
      <Title order={2} size="h4" id="members-title" mb="xs">
        Servers
      </Title>
      {members.length === 0 ? (
        <Text size="sm" c="dimmed">
          None yet.
        </Text>
      ) : (
        <Stack gap="xs">
          {members.map((m) => (
            <div key={m.server_id} data-testid="toolset-member-summary">
              {m.server_name ? (
                <Anchor {...LINK} component={Link} to={`/servers/${m.server_id}`} size="sm" fw={600}>
                  {m.server_name}
                </Anchor>
              ) : (
                <Text size="sm" fw={600}>
                  A server you can no longer see
                </Text>
              )}
              <Text size="sm" c="dimmed">
                {m.tools === null ? "All tools" : `${m.tools.length} chosen tool${m.tools.length === 1 ? "" : "s"}`}
                {m.prefix ? `, prefix ${m.prefix}` : ""}
                {Object.keys(m.rename).length ? `, ${Object.keys(m.rename).length} renamed` : ""}
                {Object.keys(m.classes).length ? `, ${Object.keys(m.classes).length} with a chosen class` : ""}
                {m.prompts && m.resources
                  ? "; its prompts and resources too"
                  : m.prompts
                    ? "; its prompts too"
                    : m.resources
                      ? "; its resources too"
                      : "; no prompts or resources"}
              </Text>
            </div>
          ))}
        </Stack>
      )}
    </Card>
  );
}
