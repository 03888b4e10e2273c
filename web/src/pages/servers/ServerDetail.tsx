import { Anchor, Badge, Button, Center, Group, Loader, Tabs, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, unwrap } from "../../api/client";
import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { PageHeader } from "../../components/PageHeader";
import { ProblemAlert } from "../../components/ProblemAlert";
import { QueryState } from "../../components/QueryState";
import { CapabilitiesTab } from "./detail/CapabilitiesTab";
import { CLOSE, keys, useServer, type Server } from "./detail/data";
import { SnapshotsTab } from "./detail/SnapshotsTab";
import { HealthBadge } from "./HealthBadge";
import { ServerFormModal } from "./ServerForm";

// The health screen carries the chart library: it loads when the tab is opened.
const HealthTab = lazy(() => import("./detail/HealthTab"));

const TABS = ["capabilities", "snapshots", "health"] as const;
type Tab = (typeof TABS)[number];

const STATUS: Record<Server["status"], { label: string; color: string }> = {
  pending_discovery: { label: "Awaiting discovery", color: "gray" },
  active: { label: "Active", color: "blue" },
  discovery_failed: { label: "Discovery failed", color: "red" },
};

/** Stories 2.2 and 2.3: one server, its capabilities and snapshots, and its health. */
export default function ServerDetail() {
  const params = useParams();
  const serverId = params.serverId ?? "";
  const rest = (params["*"] ?? "").split("/")[0] ?? "";
  const tab: Tab = (TABS as readonly string[]).includes(rest) ? (rest as Tab) : "capabilities";
  const query = useServer(serverId);

  return (
    <QueryState query={query} label="Loading the server">
      {(server) => <Detail server={server} tab={tab} />}
    </QueryState>
  );
}

function Detail({ server, tab }: { server: Server; tab: Tab }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const { can } = useSession();
  const [editing, { open, close }] = useDisclosure(false);
  const canWrite = can("servers:write");
  const canCapabilities = can("capabilities:read");
  const canHealth = can("health:read");
  const status = STATUS[server.status];

  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/servers/{server_id}", { params: { path: { server_id: server.id } } })),
    onSuccess: () => {
      client.removeQueries({ queryKey: keys.server(server.id) });
      void client.invalidateQueries({ queryKey: ["servers"] });
      notifications.show({
        closeButtonProps: CLOSE, color: "green", title: "Server deleted", message: `${server.name} is no longer registered.` });
      void navigate("/servers");
    },
  });

  return (
    <>
      <Anchor component={Link} to="/servers" size="sm" c="dimmed" underline="always">
        ← Servers
      </Anchor>
      <PageHeader
        title={server.name}
        description={server.url ?? "URL hidden by a policy"}
        actions={
          canWrite ? (
            <>
              <Button variant="default" onClick={open}>
                Edit
              </Button>
              <ConfirmButton
                title={`Delete ${server.name}?`}
                message="The server, its credentials, snapshots and health history are removed. This cannot be undone."
                confirmLabel="Delete server"
                loading={remove.isPending}
                onConfirm={() => remove.mutateAsync().catch(() => undefined)}
              >
                Delete
              </ConfirmButton>
            </>
          ) : null
        }
      />
      <Group gap="xs" mb="md" wrap="wrap" data-testid="server-facts">
        <Badge variant="default" data-testid="server-environment">
          {server.environment}
        </Badge>
        <HealthBadge status={server.health.status} />
        <Badge variant="dot" color={status.color}>
          {status.label}
        </Badge>
        <Badge variant="default">{server.transport === "sse" ? "SSE" : "Streamable HTTP"}</Badge>
        {(server.tags ?? []).map((t) => (
          <Badge key={t} variant="dot" color="gray">
            {t}
          </Badge>
        ))}
      </Group>
      {server.description ? (
        <Text size="sm" mb="md">
          {server.description}
        </Text>
      ) : null}
      {remove.isError ? <ProblemAlert error={remove.error} title="The server was not deleted" /> : null}
      <Tabs
        value={tab}
        onChange={(value) => void navigate(`/servers/${server.id}${value && value !== "capabilities" ? `/${value}` : ""}`)}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="capabilities">Capabilities</Tabs.Tab>
          {canCapabilities ? <Tabs.Tab value="snapshots">Snapshots</Tabs.Tab> : null}
          {canHealth ? <Tabs.Tab value="health">Health</Tabs.Tab> : null}
        </Tabs.List>
        <Tabs.Panel value="capabilities">
          <CapabilitiesTab serverId={server.id} canWrite={canWrite} canReadCapabilities={canCapabilities} />
        </Tabs.Panel>
        {canCapabilities ? (
          <Tabs.Panel value="snapshots">
            <SnapshotsTab serverId={server.id} />
          </Tabs.Panel>
        ) : null}
        {canHealth ? (
          <Tabs.Panel value="health">
            <Suspense
              fallback={
                <Center py="xl">
                  <Loader size="sm" role="status" aria-label="Loading health" />
                </Center>
              }
            >
              <HealthTab serverId={server.id} canCheck={can("health:write")} canConfigure={canWrite && can("health:write")} />
            </Suspense>
          </Tabs.Panel>
        ) : null}
      </Tabs>
      {editing ? (
        <ServerFormModal
          opened={editing}
          onClose={close}
          server={server}
          onSaved={(saved) => client.setQueryData(keys.server(server.id), saved)}
        />
      ) : null}
    </>
  );
}
