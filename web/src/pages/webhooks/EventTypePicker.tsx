import { Checkbox, Fieldset, Input, ScrollArea, SimpleGrid, Stack, Text } from "@mantine/core";

import { ProblemAlert } from "../../components/ProblemAlert";
import { groupEvents, groupLabel, useEventTypes } from "./hooks";

/**
 * Which events a webhook receives: every event (`*`), a whole group (`server.*`) or single
 * types, from the catalog the API lists. Patterns the picker does not show (set through the
 * API, like `server.health.*`) are kept as they are.
 */
export function EventTypePicker({
  value,
  onChange,
  error,
}: {
  value: string[];
  onChange: (value: string[]) => void;
  error?: string;
}) {
  const catalog = useEventTypes();
  const chosen = new Set(value);
  const every = chosen.has("*");
  const toggle = (pattern: string, on: boolean) => {
    const next = value.filter((v) => v !== pattern);
    onChange(on ? [...next, pattern] : next);
  };

  if (catalog.isPending) return <Text size="sm">Loading the event types…</Text>;
  if (catalog.isError) return <ProblemAlert error={catalog.error} title="The event types did not load" />;

  const groups = groupEvents(catalog.data.event_types);
  const shown = new Set(["*", ...groups.flatMap((g) => [g.pattern, ...g.types.map((t) => t.type)])]);
  const others = value.filter((v) => !shown.has(v));

  return (
    <Input.Wrapper
      label="Events"
      description="What this webhook receives. A group covers the events added to it later too."
      error={error}
      withAsterisk
    >
      <Stack gap="xs" mt={6}>
        <Checkbox
          label="Every event (*)"
          checked={every}
          onChange={(e) => toggle("*", e.currentTarget.checked)}
        />
        <ScrollArea.Autosize
          mah={360}
          type="auto"
          offsetScrollbars
          // Scrollable by keyboard even when every box is disabled (every event chosen).
          viewportProps={{ tabIndex: 0, role: "group", "aria-label": "Event types by group" }}
        >
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs" verticalSpacing="xs">
            {groups.map((group) => {
              const whole = every || chosen.has(group.pattern);
              const label = groupLabel(group.prefix);
              return (
                <Fieldset key={group.prefix} legend={label} p="xs" disabled={every}>
                  <Stack gap={6}>
                    <Checkbox
                      size="xs"
                      label={`All ${label === "API key" ? label : label.toLowerCase()} events (${group.pattern})`}
                      checked={whole}
                      onChange={(e) => toggle(group.pattern, e.currentTarget.checked)}
                    />
                    {group.types.map((t) => (
                      <Checkbox
                        key={t.type}
                        size="xs"
                        label={t.type}
                        description={t.description}
                        checked={whole || chosen.has(t.type)}
                        disabled={whole}
                        onChange={(e) => toggle(t.type, e.currentTarget.checked)}
                      />
                    ))}
                  </Stack>
                </Fieldset>
              );
            })}
          </SimpleGrid>
        </ScrollArea.Autosize>
        {others.length ? (
          <Text size="xs" c="dimmed">
            Also: {others.join(", ")}
          </Text>
        ) : null}
      </Stack>
    </Input.Wrapper>
  );
}
