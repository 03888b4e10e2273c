import { Button, Center, Group, Loader, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useState } from "react";
import { useSearchParams } from "react-router";

import { useSession } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { hasFilters, readFilters, writeFilters, type Filters } from "./list/filters";
import type { Server } from "./list/labels";
import { ServerFilters } from "./list/ServerFilters";
import { ServerTable } from "./list/ServerTable";
import { useStrongPrimary } from "./list/ui";
import { useServerPages } from "./list/useServerPages";
import { ServerFormModal } from "./ServerForm";
import { LoadMore } from "../../components/LoadMore";

/**
 * Story 2.1 (and the list side of 2.3): the organization's MCP servers with their health,
 * filtered and paged by the API, and registering, editing and deleting them.
 */
export default function ServerList() {
  const { can } = useSession();
  const primary = useStrongPrimary();
  const [params, setParams] = useSearchParams();
  const filters = readFilters(params);
  const setFilters = (next: Filters) => setParams(writeFilters(next), { replace: true });
  const pages = useServerPages(filters);
  const [registering, register] = useDisclosure(false);
  const [editing, setEditing] = useState<Server | null>(null);

  const servers = pages.data?.pages.flatMap((p) => p.items) ?? [];
  const hidden = pages.data?.pages.reduce((n, p) => n + p.removed_by_policy, 0) ?? 0;
  const registerButton = can("servers:write") ? (
    <Button onClick={register.open} color={primary}>
      Register a server
    </Button>
  ) : null;

  return (
    <>
      <PageHeader
        title="Servers"
        description="The MCP servers registered in your organization, with their current health."
        actions={registerButton}
      />
      <ServerFilters filters={filters} onChange={setFilters} />
      {pages.isPending ? (
        <Center py="xl" role="status" aria-live="polite">
          <Loader size="sm" role="status" aria-label="Loading servers" />
        </Center>
      ) : pages.isError && !pages.data ? (
        <ProblemAlert error={pages.error} />
      ) : servers.length === 0 && !pages.hasNextPage ? (
        <Stack align="center" py="xl" gap="sm" data-testid="empty-state">
          {hasFilters(filters) ? (
            <>
              <Text c="dimmed" ta="center">
                No servers match these filters.
              </Text>
              <Button
                variant="light"
                onClick={() => setFilters({ ...filters, q: "", environment: "", status: "", health: "", tags: [] })}
              >
                Clear filters
              </Button>
            </>
          ) : (
            <>
              <Text c="dimmed" ta="center">
                No MCP servers are registered yet
                {hidden ? ` that you may see (${hidden} hidden by your organization's policies)` : ""}.
              </Text>
              {registerButton}
            </>
          )}
        </Stack>
      ) : (
        <Stack gap="sm">
          {pages.isError ? <ProblemAlert error={pages.error} /> : null}
          <ServerTable servers={servers} onEdit={setEditing} />
          <Group justify="space-between" wrap="wrap" gap="xs">
            <Text size="sm" c="dimmed" aria-live="polite" data-testid="server-count">
              {pages.isPlaceholderData ? "Updating… " : ""}
              Showing {servers.length} server{servers.length === 1 ? "" : "s"}
              {pages.hasNextPage ? "; more match" : ""}
              {hidden ? `; ${hidden} hidden by your organization's policies` : ""}.
            </Text>
            <LoadMore pages={pages} centered={false} />
          </Group>
        </Stack>
      )}
      <ServerFormModal opened={registering} onClose={register.close} />
      <ServerFormModal opened={editing !== null} onClose={() => setEditing(null)} server={editing ?? undefined} />
    </>
  );
}
