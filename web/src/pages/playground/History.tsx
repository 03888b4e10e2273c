// Your recent playground calls, newest first; picking one selects its server and capability
// again, with its arguments when this tab kept them.
import { Box, Card, Center, Group, Loader, Stack, Text, Title, Tooltip, UnstyledButton } from "@mantine/core";

import { LoadMore } from "../../components/LoadMore";
import { ProblemAlert } from "../../components/ProblemAlert";
import { EmptyState } from "../../components/QueryState";
import { formatDate, fromNow } from "../../components/time";
import { duration, useHistory, type CallRow } from "./data";
import { StatusBadge } from "./StatusBadge";

export function History({
  serverName,
  onPick,
}: {
  serverName: (id: string | null) => string;
  onPick: (row: CallRow) => void;
}) {
  const query = useHistory();
  const rows = query.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card withBorder padding="md" component="section" aria-labelledby="history-title">
      <Stack gap="sm">
        <div>
          <Title order={2} size="h4" id="history-title">
            Your recent calls
          </Title>
          <Text size="xs" c="dimmed">
            Pick one to select it again; its arguments come back if this tab kept them (the last 20).
          </Text>
        </div>
        {query.isPending ? (
          <Center py="md">
            <Loader size="sm" role="status" aria-label="Loading your recent calls" />
          </Center>
        ) : query.isError ? (
          <ProblemAlert error={query.error} />
        ) : !rows.length ? (
          <EmptyState>No calls yet: the calls you make here are listed.</EmptyState>
        ) : (
          <Stack component="ul" gap={0} aria-label="Your recent calls" data-testid="history" m={0} p={0} style={{ listStyle: "none" }}>
            {rows.map((row) => (
              <Box
                component="li"
                key={row.id}
                data-testid="history-row"
                py={6}
                style={{ borderTop: "1px solid var(--mantine-color-default-border)" }}
              >
                <Group gap="xs" justify="space-between" wrap="nowrap" align="flex-start">
                  <Box style={{ minWidth: 0 }}>
                    <UnstyledButton
                      onClick={() => onPick(row)}
                      aria-label={`Select ${row.kind} ${row.name} again`}
                      style={{ textDecoration: "underline", wordBreak: "break-all" }}
                      ff="monospace"
                      fz="sm"
                      c="var(--mantine-color-anchor)"
                    >
                      {row.name}
                    </UnstyledButton>
                    {row.kind !== "tool" ? (
                      <Text span size="xs" c="dimmed">
                        {" "}
                        ({row.kind})
                      </Text>
                    ) : null}
                    <Text size="xs" c="dimmed">
                      {serverName(row.server_id)} · {duration(row.latency_ms)} ·{" "}
                      <Tooltip label={formatDate(row.at)}>
                        <time dateTime={row.at} tabIndex={0}>
                          {fromNow(row.at)}
                        </time>
                      </Tooltip>
                    </Text>
                  </Box>
                  <StatusBadge status={row.status} />
                </Group>
              </Box>
            ))}
          </Stack>
        )}
        <LoadMore pages={query} />
      </Stack>
    </Card>
  );
}
