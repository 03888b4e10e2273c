import { Box, Button, Code, Collapse, Table, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useId, useMemo } from "react";

import { schemaRows } from "./schema";

/** An object schema's fields as a table: name, type, required, description, allowed values. */
export function SchemaTable({ schema, caption }: { schema: unknown; caption: string }) {
  const rows = useMemo(() => schemaRows(schema), [schema]);
  if (!rows.length) {
    return (
      <Text size="sm" c="dimmed">
        {caption}: no fields.
      </Text>
    );
  }
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table withTableBorder striped verticalSpacing={4} fz="sm">
        <Table.Caption style={{ captionSide: "top", textAlign: "left" }}>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Field</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Required</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>Allowed values</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row) => (
            <Table.Tr key={row.key} data-field={row.key}>
              <Table.Td>
                <Box pl={row.depth * 18} style={{ whiteSpace: "nowrap" }}>
                  {row.depth > 0 ? (
                    <Text span c="dimmed" aria-hidden>
                      {"↳ "}
                    </Text>
                  ) : null}
                  <Code>{row.name}</Code>
                </Box>
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {row.type}
                </Text>
              </Table.Td>
              <Table.Td>
                {row.required ? (
                  <Text size="sm" fw={700}>
                    required
                  </Text>
                ) : (
                  <Text size="sm" c="dimmed">
                    optional
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm">{row.description ?? ""}</Text>
                {row.defaultValue !== undefined ? (
                  <Text size="xs" c="dimmed">
                    Default: <Code>{row.defaultValue}</Code>
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace" style={{ wordBreak: "break-word" }}>
                  {row.allowed ?? ""}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** JSON behind a "Show raw JSON" button. */
export function RawJson({ value, label }: { value: unknown; label: string }) {
  const [opened, { toggle }] = useDisclosure(false);
  const id = useId();
  return (
    <div>
      <Button
        variant="subtle"
        size="compact-sm"
        onClick={toggle}
        aria-expanded={opened}
        aria-controls={opened ? id : undefined}
        aria-label={`${opened ? "Hide" : "Show"} raw JSON of ${label}`}
      >
        {opened ? "Hide raw JSON" : "Show raw JSON"}
      </Button>
      <Collapse expanded={opened} id={id} keepMounted={false}>
        <Code block mt="xs" tabIndex={0} style={{ maxHeight: 400, overflow: "auto" }}>
          {JSON.stringify(value, null, 2)}
        </Code>
      </Collapse>
    </div>
  );
}
