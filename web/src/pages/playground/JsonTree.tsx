// A JSON value as a tree: objects and arrays fold and unfold (buttons, so the keyboard works),
// long lists show their first items with the rest a click away.
import { Box, Button, Code, CopyButton, Group, UnstyledButton, useComputedColorScheme } from "@mantine/core";
import { useState, type ReactNode } from "react";

const OPEN_DEPTH = 2;
const FIRST = 100;
const MONO = "var(--mantine-font-family-monospace)";

export function JsonTree({ value, label }: { value: unknown; label: string }) {
  return (
    <Box
      role="group"
      aria-label={label}
      fz="sm"
      p="xs"
      style={{
        border: "1px solid var(--mantine-color-default-border)",
        borderRadius: "var(--mantine-radius-sm)",
        overflowX: "auto",
      }}
      data-testid="json-tree"
    >
      <Box ff={MONO}>
        <Node value={value} depth={0} />
      </Box>
      <Group justify="flex-end" mt={4}>
        <CopyButton value={JSON.stringify(value, null, 2)}>
          {({ copied, copy }) => (
            <Button size="compact-xs" variant="subtle" onClick={copy}>
              {copied ? "Copied" : "Copy JSON"}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Box>
  );
}

function Scalar({ value }: { value: unknown }) {
  // Shades that keep AA contrast (4.5:1) on the page's background in each theme.
  const shade = useComputedColorScheme("light") === "dark" ? 3 : 9;
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  const color =
    typeof value === "string"
      ? `var(--mantine-color-teal-${shade})`
      : typeof value === "number"
        ? `var(--mantine-color-blue-${shade})`
        : "var(--mantine-color-dimmed)";
  return (
    <span style={{ color, wordBreak: "break-word", whiteSpace: "pre-wrap" }}>{text}</span>
  );
}

function Node({ value, depth, name }: { value: unknown; depth: number; name?: ReactNode }) {
  const composite = typeof value === "object" && value !== null;
  const [open, setOpen] = useState(depth < OPEN_DEPTH);
  const [all, setAll] = useState(false);
  if (!composite) {
    return (
      <div>
        {name}
        <Scalar value={value} />
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [start, end] = isArray ? ["[", "]"] : ["{", "}"];
  const summary = `${entries.length} ${isArray ? (entries.length === 1 ? "item" : "items") : entries.length === 1 ? "key" : "keys"}`;
  if (!entries.length) {
    return (
      <div>
        {name}
        {start}
        {end}
      </div>
    );
  }
  const shown = all ? entries : entries.slice(0, FIRST);
  return (
    <div>
      <UnstyledButton
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
        ff={MONO}
        fz="sm"
        style={{ borderRadius: 4 }}
      >
        <span aria-hidden>{open ? "▾ " : "▸ "}</span>
        {name}
        {start}
        {open ? null : ` ${summary} ${end}`}
      </UnstyledButton>
      {open ? (
        <Box pl="md" style={{ borderLeft: "1px dotted var(--mantine-color-default-border)" }}>
          {shown.map(([key, child]) => (
            <Node
              key={key}
              value={child}
              depth={depth + 1}
              name={
                <span style={{ color: "var(--mantine-color-text)" }}>
                  {isArray ? <Code fz="xs">{key}</Code> : JSON.stringify(key)}
                  {": "}
                </span>
              }
            />
          ))}
          {entries.length > shown.length ? (
            <Button size="compact-xs" variant="subtle" onClick={() => setAll(true)}>
              Show all {entries.length}
            </Button>
          ) : null}
        </Box>
      ) : null}
      {open ? <div>{end}</div> : null}
    </div>
  );
}
