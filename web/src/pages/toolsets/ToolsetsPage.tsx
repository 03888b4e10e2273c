import { Anchor, Button, Code, Group, Stack, Table, Text } from "@mantine/core";
import { Link } from "react-router";

import { useSession } from "../../auth/session";
import { LoadMore } from "../../components/LoadMore";
import { PageHeader } from "../../components/PageHeader";
import { QueryState } from "../../components/QueryState";
import { LINK } from "../audit/tones";
import { Copy } from "./Copy";
import { endpointUrl, serversLabel, useToolsetPages, type Toolset } from "./hooks";

/** The organization's toolsets: servers and tools served together as one MCP endpoint. */
export default function ToolsetsPage() {
  const { can } = useSession();
  const query = useToolsetPages();
  return (
    <>
      <PageHeader
        title="Toolsets"
        description="Each toolset is an MCP endpoint that serves tools from several registered servers, checked by your policies and rate limits."
        actions={
          can("toolsets:write") ? (
            <Button component={Link} to="/toolsets/new">
              New toolset
            </Button>
          ) : null
        }
      />
      <QueryState
        query={query}
        label="Loading toolsets"
        isEmpty={(data) => data.pages.every((p) => p.items.length === 0)}
        empty={
          <>
            No toolsets yet. A toolset gathers tools from one or more registered MCP servers
            (all of a server's tools or the ones you choose, renamed if you like) and serves them
            at a single MCP endpoint. Point an MCP client at that address with an API key, and
            every call goes through your organization's policies, rate limits and audit log.
          </>
        }
      >
        {(data) => (
          <Stack gap="sm">
            <ToolsetTable toolsets={data.pages.flatMap((p) => p.items)} />
            <LoadMore pages={query} />
          </Stack>
        )}
      </QueryState>
    </>
  );
}

function ToolsetTable({ toolsets }: { toolsets: Toolset[] }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="Toolsets">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>Servers</Table.Th>
            <Table.Th>Endpoint</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {toolsets.map((t) => (
            <Table.Tr key={t.id} data-testid="toolset-row" data-name={t.name}>
              <Table.Td>
                <Anchor {...LINK} component={Link} to={`/toolsets/${t.id}`} size="sm" fw={600}>
                  {t.name}
                </Anchor>
              </Table.Td>
              <Table.Td maw={320}>
                <Text size="sm" lineClamp={2} c={t.description ? undefined : "dimmed"}>
                  {t.description || "—"}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" data-testid="toolset-servers" title={t.servers.map((s) => s.server_name ?? s.server_id).join(", ")}>
                  {serversLabel(t.servers.length)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Code data-testid="toolset-endpoint">{t.endpoint}</Code>
                  <Copy value={endpointUrl(t.endpoint)} label="Copy URL" name={t.name} />
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
