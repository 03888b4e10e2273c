// A form drawn from a JSON Schema: one input a field, required fields marked, enums as
// choices, nested objects as fieldsets, arrays as rows to add and remove, and raw JSON for
// whatever the form cannot draw. The value is the arguments object itself.
import {
  ActionIcon,
  Button,
  Checkbox,
  Fieldset,
  Group,
  JsonInput,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useState } from "react";

import {
  getAt,
  isObject,
  labelOf,
  pathKey,
  propertiesOf,
  setAt,
  shapeOf,
  type FieldShape,
  type Json,
  type Path,
} from "./schema";

const MAX_DEPTH = 6;

interface Context {
  root: Json;
  value: unknown;
  onChange: (next: unknown) => void;
  errors: Map<string, string[]>;
}

/** The arguments form of `schema`; `errors` by argument path ("" for the whole). */
export function SchemaForm({
  schema,
  value,
  onChange,
  errors,
  label = "arguments",
}: {
  schema: Json;
  value: unknown;
  onChange: (next: unknown) => void;
  errors: Map<string, string[]>;
  label?: string;
}) {
  const context: Context = { root: schema, value, onChange, errors };
  const shape = shapeOf(schema, schema);
  const general = errors.get("");
  if (shape.kind !== "object") {
    return (
      <Stack gap="xs" data-testid="schema-form">
        <Text size="sm" c="dimmed">
          {shape.kind === "json"
            ? `The input schema lists no fields: write the ${label} as JSON.`
            : `This takes no ${label}.`}
        </Text>
        {shape.kind === "json" ? (
          <JsonField context={context} path={[]} name={label} shape={shape} required={false} />
        ) : null}
        {general ? <FieldMessages messages={general} /> : null}
      </Stack>
    );
  }
  return (
    <Stack gap="sm" data-testid="schema-form">
      {general ? <FieldMessages messages={general} /> : null}
      <Properties context={context} schema={shape.schema} path={[]} depth={0} />
    </Stack>
  );
}

function FieldMessages({ messages }: { messages: string[] }) {
  return (
    <Text size="sm" c="var(--mantine-color-error)" role="alert">
      {messages.join("; ")}
    </Text>
  );
}

function Properties({ context, schema, path, depth }: { context: Context; schema: Json; path: Path; depth: number }) {
  const properties = propertiesOf(schema);
  if (!properties.length) return <Text size="sm" c="dimmed">No fields.</Text>;
  return (
    <>
      {properties.map((p) => (
        <Field
          key={p.name}
          context={context}
          raw={p.schema}
          path={[...path, p.name]}
          name={p.name}
          required={p.required}
          depth={depth}
        />
      ))}
    </>
  );
}

function describe(schema: Json): string | undefined {
  const parts: string[] = [];
  if (typeof schema.description === "string" && schema.description.trim()) parts.push(schema.description.trim());
  if ("default" in schema) parts.push(`Default: ${JSON.stringify(schema.default)}`);
  if (typeof schema.format === "string") parts.push(`Format: ${schema.format}`);
  return parts.length ? parts.join(" · ") : undefined;
}

interface FieldProps {
  context: Context;
  raw: unknown;
  path: Path;
  name: string;
  required: boolean;
  depth: number;
  inArray?: boolean;
}

function Field({ context, raw, path, name, required, depth, inArray = false }: FieldProps) {
  const shape = shapeOf(raw, context.root);
  const kind = depth >= MAX_DEPTH && (shape.kind === "object" || shape.kind === "array") ? "json" : shape.kind;
  const key = pathKey(path);
  const messages = context.errors.get(key);
  const error = messages?.join("; ");
  const value = getAt(context.value, path);
  const set = (next: unknown) => context.onChange(setAt(context.value, path, next));
  const common = {
    label: labelOf(name, shape.schema),
    description: describe(shape.schema),
    withAsterisk: required,
    error,
    "aria-required": required || undefined,
    "data-path": key,
  };

  switch (kind) {
    case "string":
      return (
        <TextInput
          {...common}
          value={typeof value === "string" ? value : ""}
          onChange={(e) => {
            const text = e.currentTarget.value;
            set(text === "" && !inArray ? undefined : text);
          }}
          placeholder={typeof shape.schema.default === "string" ? shape.schema.default : undefined}
        />
      );
    case "number":
    case "integer":
      return (
        <NumberInput
          {...common}
          value={typeof value === "number" ? value : ""}
          allowDecimal={kind === "number"}
          min={typeof shape.schema.minimum === "number" ? shape.schema.minimum : undefined}
          max={typeof shape.schema.maximum === "number" ? shape.schema.maximum : undefined}
          onChange={(next) => {
            if (next === "") set(undefined);
            else if (typeof next === "number") set(next);
            else if (!Number.isNaN(Number(next))) set(Number(next));
          }}
        />
      );
    case "boolean":
      return (
        <Checkbox
          label={
            <>
              {common.label}
              {required ? <Text span c="var(--mantine-color-error)" aria-hidden> *</Text> : null}
            </>
          }
          description={common.description}
          error={common.error}
          aria-required={common["aria-required"]}
          data-path={key}
          checked={value === true}
          onChange={(e) => set(e.currentTarget.checked)}
        />
      );
    case "enum": {
      const options = shape.options ?? [];
      const labels = options.map((o) => (typeof o === "string" ? o : JSON.stringify(o)));
      const chosen = options.findIndex((o) => JSON.stringify(o) === JSON.stringify(value));
      return (
        <Select
          {...common}
          data={labels.map((label, index) => ({ value: String(index), label }))}
          value={chosen >= 0 ? String(chosen) : null}
          onChange={(next) => set(next === null ? undefined : options[Number(next)])}
          clearable={!required}
          allowDeselect={!required}
          placeholder="Choose a value"
          comboboxProps={{ withinPortal: true }}
        />
      );
    }
    case "object":
      return (
        <Fieldset
          legend={
            <Text span fw={600} size="sm">
              {common.label}
              {required ? <Text span c="var(--mantine-color-error)" aria-hidden> *</Text> : null}
            </Text>
          }
          p="sm"
          data-path={key}
          aria-required={required || undefined}
        >
          <Stack gap="sm">
            {common.description ? <Text size="xs" c="dimmed">{common.description}</Text> : null}
            {messages ? <FieldMessages messages={messages} /> : null}
            <Properties context={context} schema={shape.schema} path={path} depth={depth + 1} />
          </Stack>
        </Fieldset>
      );
    case "array":
      return <ArrayField {...{ context, path, name, required, depth, shape, messages, label: common.label, description: common.description }} />;
    default:
      return <JsonField context={context} path={path} name={name} shape={shape} required={required} />;
  }
}

/** A new row's starting value, by the kind of the array's items. */
function blank(shape: FieldShape): unknown {
  switch (shape.kind) {
    case "string":
      return "";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "enum":
      return shape.options?.[0] ?? null;
    case "object":
      return {};
    case "array":
      return [];
    default:
      return null;
  }
}

function ArrayField({
  context,
  path,
  name,
  required,
  depth,
  shape,
  messages,
  label,
  description,
}: {
  context: Context;
  path: Path;
  name: string;
  required: boolean;
  depth: number;
  shape: FieldShape;
  messages?: string[];
  label: string;
  description?: string;
}) {
  const current = getAt(context.value, path);
  const list = Array.isArray(current) ? current : [];
  const items = shape.schema.items;
  const itemShape = shapeOf(items, context.root);
  const write = (next: unknown[] | undefined) => context.onChange(setAt(context.value, path, next));
  return (
    <Fieldset
      legend={
        <Text span fw={600} size="sm">
          {label}
          {required ? <Text span c="var(--mantine-color-error)" aria-hidden> *</Text> : null}
        </Text>
      }
      p="sm"
      data-path={pathKey(path)}
      aria-required={required || undefined}
    >
      <Stack gap="sm">
        {description ? <Text size="xs" c="dimmed">{description}</Text> : null}
        {messages ? <FieldMessages messages={messages} /> : null}
        {!list.length ? (
          <Text size="sm" c="dimmed">
            No items.
          </Text>
        ) : null}
        {list.map((_, index) => (
          <Group key={index} align="flex-start" wrap="nowrap" gap="xs">
            <div style={{ flex: 1, minWidth: 0 }}>
              <Field
                context={context}
                raw={items}
                path={[...path, index]}
                name={`${name} ${index + 1}`}
                required={false}
                depth={depth + 1}
                inArray
              />
            </div>
            <ActionIcon
              variant="subtle"
              color="gray"
              mt={itemShape.kind === "object" || itemShape.kind === "array" ? 10 : 26}
              aria-label={`Remove ${name} ${index + 1}`}
              onClick={() => {
                const next = list.filter((__, i) => i !== index);
                write(next.length || required ? next : undefined);
              }}
            >
              <span aria-hidden>✕</span>
            </ActionIcon>
          </Group>
        ))}
        <Button
          variant="light"
          size="xs"
          w="fit-content"
          onClick={() => write([...list, blank(itemShape)])}
        >
          Add to {name}
        </Button>
      </Stack>
    </Fieldset>
  );
}

/** A field the form cannot draw (a union, a free-form object): its JSON, checked as typed. */
function JsonField({
  context,
  path,
  name,
  shape,
  required,
}: {
  context: Context;
  path: Path;
  name: string;
  shape: FieldShape;
  required: boolean;
}) {
  const value = getAt(context.value, path);
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [invalid, setInvalid] = useState(false);
  const key = pathKey(path);
  // Errors at this field or anywhere inside it: the form draws nothing inside.
  const messages = [...context.errors.entries()]
    .filter(([k]) => k === key || key === "" || k.startsWith(`${key}.`))
    .map(([k, m]) => (k === key ? m.join("; ") : `${k.slice(key ? key.length + 1 : 0)}: ${m.join("; ")}`));
  return (
    <JsonInput
      label={labelOf(name, shape.schema)}
      description={[describe(shape.schema), "JSON"].filter(Boolean).join(" · ")}
      withAsterisk={required}
      aria-required={required || undefined}
      data-path={key}
      value={text}
      autosize
      minRows={2}
      maxRows={12}
      styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
      error={invalid ? "Not valid JSON" : messages.length ? messages.join("; ") : undefined}
      onChange={(next) => {
        setText(next);
        if (!next.trim()) {
          setInvalid(false);
          context.onChange(setAt(context.value, path, undefined));
          return;
        }
        try {
          const parsed: unknown = JSON.parse(next);
          setInvalid(false);
          context.onChange(path.length ? setAt(context.value, path, parsed) : isObject(parsed) ? parsed : context.value);
        } catch {
          setInvalid(true);
        }
      }}
    />
  );
}
