import { Badge, Button, Card, Group, Stack, Table, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useState, type FormEvent } from "react";

import { useSession } from "../../auth/session";
import { ConfirmButton } from "../../components/ConfirmButton";
import { EmptyState, QueryState } from "../../components/QueryState";
import {
  fieldError,
  onlyFieldErrors,
  saved,
  useOrganization,
  useUpdateOrganization,
  WriteError,
} from "./common";

/** What an allowlist entry is, as the API reads it. */
export function entryKind(entry: string): string {
  if (entry.includes("/")) return "Network";
  if (entry.startsWith("*.")) return "Subdomains";
  if (/^[\d.]+$/.test(entry) || entry.includes(":")) return "Address";
  return "Host name";
}

/** The entry an API message names ("not a host name, IP address or CIDR: 'x y'"), if any. */
function namedEntry(message: string | undefined): string | undefined {
  const quoted = message?.match(/'([^']*)'\s*$/) ?? message?.match(/"([^"]*)"\s*$/);
  return quoted?.[1];
}

export function EgressTab() {
  const query = useOrganization();
  return (
    <QueryState query={query} label="Loading the allowlist">
      {(org) => <Allowlist entries={org.egress_allowlist} />}
    </QueryState>
  );
}

function Allowlist({ entries }: { entries: string[] }) {
  const { can } = useSession();
  const editable = can("org:write");
  const update = useUpdateOrganization();
  const [draft, setDraft] = useState("");
  const [draftError, setDraftError] = useState<string>();
  const [lastWrite, setLastWrite] = useState<"add" | "remove" | null>(null);

  const apiMessage = fieldError(update.error, "egress_allowlist");
  const badEntry = namedEntry(apiMessage);
  // A stored entry the API refuses (set outside the console) is marked on its row.
  const rowError = (entry: string) =>
    lastWrite === "remove" && badEntry === entry ? apiMessage : undefined;

  const add = (event: FormEvent) => {
    event.preventDefault();
    const entry = draft.trim();
    if (!entry) return;
    if (entries.includes(entry)) {
      setDraftError(`${entry} is already in the list.`);
      return;
    }
    setDraftError(undefined);
    setLastWrite("add");
    update.mutate(
      { egress_allowlist: [...entries, entry] },
      {
        onSuccess: () => {
          setDraft("");
          saved(`${entry} added to the egress allowlist`);
        },
        onError: (error) => setDraftError(fieldError(error, "egress_allowlist")),
      },
    );
  };

  const remove = async (entry: string) => {
    setLastWrite("remove");
    setDraftError(undefined);
    try {
      await update.mutateAsync({ egress_allowlist: entries.filter((e) => e !== entry) });
      saved(`${entry} removed from the egress allowlist`);
    } catch {
      // shown below the list
    }
  };

  return (
    <Stack gap="md">
      <Card withBorder padding="lg">
        <Title order={2} size="h4" mb={4}>
          Egress allowlist
        </Title>
        <Text size="sm" c="dimmed">
          When the list has entries, SprintConnect reaches MCP servers and token endpoints only at
          these destinations: exact host names, <code>*.domain</code> for subdomains, IP addresses
          and CIDR networks. The platform's own deny list applies all the same. An empty list
          means no allowlist.
        </Text>
      </Card>

      {editable ? (
        <form onSubmit={add} noValidate aria-label="Add an allowlist entry">
          <Group align="flex-start" gap="xs" wrap="wrap">
            <TextInput
              label="New entry"
              placeholder="mcp.example.com, *.tools.example.com or 10.20.0.0/16"
              value={draft}
              onChange={(e) => setDraft(e.currentTarget.value)}
              error={draftError}
              maxLength={253}
              style={{ flex: "1 1 260px" }}
            />
            <Button
              type="submit"
              mt={{ base: 0, xs: 25 }}
              loading={update.isPending && lastWrite === "add"}
              disabled={!draft.trim()}
            >
              Add entry
            </Button>
          </Group>
        </form>
      ) : null}

      {lastWrite === "remove" && update.isError && !rowError(badEntry ?? "") ? (
        <WriteError error={update.error} title="The allowlist was not changed" />
      ) : null}
      {lastWrite === "add" && update.isError && !onlyFieldErrors(update.error, ["egress_allowlist"]) ? (
        <WriteError error={update.error} title="The entry was not added" />
      ) : null}

      {entries.length === 0 ? (
        <EmptyState>
          No allowlist: outbound requests may reach any destination the platform's egress policy
          allows.
        </EmptyState>
      ) : (
        <Table.ScrollContainer minWidth={420}>
          <Table striped verticalSpacing="xs" aria-label="Egress allowlist entries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Entry</Table.Th>
                <Table.Th>Kind</Table.Th>
                {editable ? (
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                ) : null}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.map((entry) => (
                <Table.Tr key={entry} data-testid="allowlist-entry">
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {entry}
                    </Text>
                    {rowError(entry) ? (
                      <Text size="xs" c="var(--mantine-color-error)" role="alert">
                        {rowError(entry)}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color="gray">
                      {entryKind(entry)}
                    </Badge>
                  </Table.Td>
                  {editable ? (
                    <Table.Td ta="right">
                      <ConfirmButton
                        size="xs"
                        aria-label={`Remove ${entry}`}
                        title={`Remove ${entry}?`}
                        message={
                          entries.length === 1
                            ? "It is the last entry: without an allowlist, outbound requests may reach any destination the platform allows."
                            : "Outbound requests to this destination are refused from the next request on, unless another entry covers it."
                        }
                        confirmLabel="Remove"
                        loading={update.isPending && lastWrite === "remove"}
                        onConfirm={() => remove(entry)}
                      >
                        Remove
                      </ConfirmButton>
                    </Table.Td>
                  ) : null}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
