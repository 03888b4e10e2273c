// What a call returned: its status and cost, then the MCP result drawn by block (text, JSON,
// images, audio, resources), the structured content as a tree, what a policy removed; or the
// problem that refused it.
import { Alert, Anchor, Badge, Button, Card, Code, Group, List, Stack, Text, Title } from "@mantine/core";
import { useEffect, useMemo, useState } from "react";

import { ProblemError, toProblem, withoutFields } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { duration, size } from "./data";
import type { Invocation } from "./invoke";
import { JsonTree } from "./JsonTree";
import { StatusBadge } from "./StatusBadge";

type Block = Record<string, unknown>;

export function ResultView({ invocation }: { invocation: Invocation }) {
  const result = invocation.result as Block;
  return (
    <Stack gap="sm" data-testid="result">
      <Group gap="xs" wrap="wrap" data-testid="result-facts">
        <StatusBadge status={invocation.status} testId="result-status" />
        <Fact label="Duration" value={duration(invocation.duration_ms)} />
        <Fact label="Sent" value={size(invocation.request_bytes)} />
        <Fact label="Received" value={size(invocation.response_bytes)} />
        <Fact label="Estimated tokens" value={`≈ ${invocation.estimated_tokens}`} />
        <Fact label="Class" value={invocation.capability_class} />
        {invocation.decision_id ? <Fact label="Decision" value={invocation.decision_id} mono /> : null}
      </Group>
      {invocation.is_error ? (
        <Text size="sm" c="dimmed">
          The tool ran and reported a failure of its own: its message is below.
        </Text>
      ) : null}
      {invocation.kind === "tool" ? <ToolResult result={result} /> : null}
      {invocation.kind === "prompt" ? <PromptResult result={result} /> : null}
      {invocation.kind === "resource" ? <ResourceResult result={result} /> : null}
      {invocation.redacted.length ? (
        <Alert color="yellow" variant="light" title="Removed by a policy" styles={{ title: { color: "var(--mantine-color-text)" } }}>
          <List size="sm">
            {invocation.redacted.map((path) => (
              <List.Item key={path}>
                <Code>{path}</Code>
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      <Raw value={invocation.result} />
    </Stack>
  );
}

function Fact({ label, value, mono = false }: { label: string; value: string; mono?: boolean }) {
  return (
    <Text size="sm" span>
      <Text span c="dimmed" size="sm">
        {label}{" "}
      </Text>
      <Text span size="sm" fw={500} ff={mono ? "monospace" : undefined} data-testid={`fact-${label.toLowerCase().replace(/ /g, "-")}`}>
        {value}
      </Text>
    </Text>
  );
}

function Raw({ value }: { value: unknown }) {
  const [open, setOpen] = useState(false);
  return (
    <Stack gap={4}>
      <Button variant="subtle" size="compact-sm" w="fit-content" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        {open ? "Hide the raw result" : "Show the raw result"}
      </Button>
      {open ? <JsonTree value={value} label="Raw result" /> : null}
    </Stack>
  );
}

function ToolResult({ result }: { result: Block }) {
  const content = Array.isArray(result.content) ? (result.content as Block[]) : [];
  return (
    <Stack gap="sm">
      {content.length ? (
        content.map((block, index) => <ContentBlock key={index} block={block} index={index} />)
      ) : (
        <Text size="sm" c="dimmed">
          No content blocks.
        </Text>
      )}
      {"structuredContent" in result && result.structuredContent !== null ? (
        <Stack gap={4}>
          <Title order={3} size="h5">
            Structured content
          </Title>
          <JsonTree value={result.structuredContent} label="Structured content" />
        </Stack>
      ) : null}
    </Stack>
  );
}

function PromptResult({ result }: { result: Block }) {
  const messages = Array.isArray(result.messages) ? (result.messages as Block[]) : [];
  return (
    <Stack gap="sm">
      {typeof result.description === "string" ? <Text size="sm">{result.description}</Text> : null}
      {messages.map((m, index) => (
        <Stack key={index} gap={4}>
          <Badge variant="default" w="fit-content">
            {String(m.role ?? "message")}
          </Badge>
          {typeof m.content === "object" && m.content !== null ? (
            <ContentBlock block={m.content as Block} index={index} />
          ) : null}
        </Stack>
      ))}
      {!messages.length ? <Text size="sm" c="dimmed">No messages.</Text> : null}
    </Stack>
  );
}

function ResourceResult({ result }: { result: Block }) {
  const contents = Array.isArray(result.contents) ? (result.contents as Block[]) : [];
  return (
    <Stack gap="sm">
      {contents.map((c, index) => (
        <ResourceCard key={index} resource={c} />
      ))}
      {!contents.length ? <Text size="sm" c="dimmed">The resource is empty.</Text> : null}
    </Stack>
  );
}

/** One MCP content block. */
export function ContentBlock({ block, index }: { block: Block; index: number }) {
  const type = String(block.type ?? "");
  const mime = typeof block.mimeType === "string" ? block.mimeType : "";
  if (type === "text") return <TextBlock text={String(block.text ?? "")} />;
  if (type === "image" && typeof block.data === "string" && mime.startsWith("image/")) {
    return (
      <img
        src={`data:${mime};base64,${block.data}`}
        alt={`Image ${index + 1} of the result (${mime})`}
        style={{ maxWidth: "100%", height: "auto", alignSelf: "flex-start" }}
        data-testid="result-image"
      />
    );
  }
  if (type === "audio" && typeof block.data === "string" && mime.startsWith("audio/")) {
    return <AudioBlock data={block.data} mime={mime} index={index} />;
  }
  if (type === "resource_link") return <ResourceCard resource={block} link />;
  if (type === "resource" && typeof block.resource === "object" && block.resource !== null) {
    return <ResourceCard resource={block.resource as Block} />;
  }
  return <JsonTree value={block} label={`Content block ${index + 1} (${type || "unknown"})`} />;
}

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function TextBlock({ text }: { text: string }) {
  const json = useMemo(() => parseJson(text), [text]);
  const [asText, setAsText] = useState(false);
  if (json !== undefined && !asText) {
    return (
      <Stack gap={4}>
        <JsonTree value={json} label="Text content (JSON)" />
        <Button variant="subtle" size="compact-xs" w="fit-content" onClick={() => setAsText(true)}>
          Show as text
        </Button>
      </Stack>
    );
  }
  return (
    <Stack gap={4}>
      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-word" }} data-testid="result-text">
        {text}
      </Code>
      {json !== undefined ? (
        <Button variant="subtle" size="compact-xs" w="fit-content" onClick={() => setAsText(false)}>
          Show as JSON
        </Button>
      ) : null}
    </Stack>
  );
}

function AudioBlock({ data, mime, index }: { data: string; mime: string; index: number }) {
  // A blob URL made here from the block's base64 data, which the console's content policy
  // allows for media (media-src 'self' blob: data:); the same URL is the download link.
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    try {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      made = URL.createObjectURL(new Blob([bytes], { type: mime }));
      setUrl(made);
    } catch {
      setUrl(null);
    }
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [data, mime]);
  return (
    <Stack gap={4}>
      <audio controls src={url ?? undefined} aria-label={`Audio ${index + 1} of the result (${mime})`} data-testid="result-audio" />
      {url ? (
        <Anchor href={url} download={`audio-${index + 1}`} size="sm">
          Download the audio
        </Anchor>
      ) : null}
    </Stack>
  );
}

function ResourceCard({ resource, link = false }: { resource: Block; link?: boolean }) {
  const mime = typeof resource.mimeType === "string" ? resource.mimeType : null;
  const name = typeof resource.title === "string" ? resource.title : typeof resource.name === "string" ? resource.name : null;
  return (
    <Card withBorder padding="sm" data-testid="result-resource">
      <Stack gap={4}>
        <Group gap="xs" wrap="wrap">
          <Badge variant="default" size="sm">
            {link ? "Resource link" : "Resource"}
          </Badge>
          {name ? <Text size="sm" fw={600}>{name}</Text> : null}
          {mime ? <Badge variant="default" size="sm">{mime}</Badge> : null}
        </Group>
        <Code style={{ wordBreak: "break-all" }}>{String(resource.uri ?? "")}</Code>
        {typeof resource.description === "string" ? <Text size="sm">{resource.description}</Text> : null}
        {typeof resource.text === "string" ? <TextBlock text={resource.text} /> : null}
        {typeof resource.blob === "string" ? (
          mime?.startsWith("image/") ? (
            <img src={`data:${mime};base64,${resource.blob}`} alt={`${name ?? "Resource"} (${mime})`} style={{ maxWidth: "100%" }} />
          ) : (
            <Text size="sm" c="dimmed">
              Binary content, about {size(Math.floor((resource.blob.length * 3) / 4))}.
            </Text>
          )
        ) : null}
      </Stack>
    </Card>
  );
}

/** A refused or failed call: the problem, its classified reason, and what happens next. */
export function CallProblem({ error, fieldsShown }: { error: unknown; fieldsShown: boolean }) {
  const problem = toProblem(error);
  const kind = error instanceof ProblemError ? error.kind : "";
  const reason = typeof problem.reason === "string" ? problem.reason : null;
  return (
    <Stack gap="xs" data-testid="call-problem">
      <ProblemAlert error={fieldsShown ? withoutFields(error) : error} />
      {reason ? (
        <Text size="sm">
          Reason: <Code>{reason}</Code>
        </Text>
      ) : null}
      {kind === "capability-changed-upstream" ? (
        <Alert variant="light" color="blue" title="A discovery was queued">
          The server's capabilities changed since the last snapshot, so SprintConnect queued a
          discovery of this server. Pick the capability again when it finishes.
        </Alert>
      ) : null}
    </Stack>
  );
}
