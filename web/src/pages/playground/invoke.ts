// One playground call: POST with `Accept: text/event-stream`, progress events as they come,
// then the result or the problem. It goes through the typed client (its CSRF header,
// `X-Return-To` and sign-in handling) and reads the stream itself; aborting the fetch closes
// the stream, which cancels the call on the server. A JSON answer is taken as it is.
import { api, unwrap } from "../../api/client";
import { isProblem, ProblemError } from "../../api/problem";
import type { components } from "../../api/schema";

export type Invocation = components["schemas"]["InvocationOut"];
export type Kind = "tool" | "prompt" | "resource";

export interface Progress {
  progress: number;
  total: number | null;
  message: string | null;
}

export interface ServerSentEvent {
  event: string;
  data: string;
}

/** Server-sent events from a byte stream (the WHATWG format: `event:`, `data:`, blank line). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r|\n/);
      // The last piece may be a line still arriving; at the end it is a line of its own.
      buffer = done ? "" : (lines.pop() ?? "");
      for (const line of lines) {
        if (line === "") {
          if (data.length) yield { event, data: data.join("\n") };
          event = "message";
          data = [];
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const raw = colon < 0 ? "" : line.slice(colon + 1);
          const text = raw.startsWith(" ") ? raw.slice(1) : raw;
          if (field === "event") event = text;
          else if (field === "data") data.push(text);
        }
      }
      if (done) {
        if (data.length) yield { event, data: data.join("\n") };
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export interface CallRequest {
  kind: Kind;
  serverId: string;
  name: string; // tool or prompt name, or the resource's URI
  arguments: Record<string, unknown>;
}


function call(request: CallRequest, signal: AbortSignal) {
  const options = {
    headers: { Accept: "text/event-stream" },
    parseAs: "stream" as const,
    signal,
  };
  const server_id = request.serverId;
  if (request.kind === "tool") {
    return api.POST("/api/v1/servers/{server_id}/tools/{name}/invoke", {
      ...options,
      params: { path: { server_id, name: request.name } },
      body: { arguments: request.arguments },
    });
  }
  if (request.kind === "prompt") {
    return api.POST("/api/v1/servers/{server_id}/prompts/{name}/get", {
      ...options,
      params: { path: { server_id, name: request.name } },
      body: { arguments: request.arguments as Record<string, string> },
    });
  }
  return api.POST("/api/v1/servers/{server_id}/resources/read", {
    ...options,
    params: { path: { server_id } },
    body: { uri: request.name },
  });
}

/**
 * Run one call; `onProgress` sees each progress event, `onClock` how far the server's clock
 * (its Date header) is ahead of the browser's, to find the call in the history later.
 * Throws a ProblemError when refused.
 */
export async function invoke(
  request: CallRequest,
  {
    signal,
    onProgress,
    onClock,
  }: { signal: AbortSignal; onProgress: (p: Progress) => void; onClock?: (offsetMs: number) => void },
): Promise<Invocation> {
  const answered = await call(request, signal);
  const { response } = answered;
  const date = Date.parse(response.headers.get("Date") ?? "");
  if (!Number.isNaN(date)) onClock?.(date - Date.now());
  // A refusal (422, 409, 429, 502, …) is a problem+json answer: thrown as a ProblemError.
  const body = (await unwrap(Promise.resolve(answered))) as unknown as ReadableStream<Uint8Array> | undefined;
  const type = response.headers.get("Content-Type") ?? "";
  if (!body) throw new ProblemError({ type: "about:blank", title: "The answer was empty", status: response.status });
  if (!type.includes("text/event-stream")) {
    const text = await new Response(body).text();
    return JSON.parse(text) as Invocation;
  }
  for await (const event of readEvents(body)) {
    const data: unknown = JSON.parse(event.data);
    if (event.event === "progress") onProgress(data as Progress);
    else if (event.event === "result") return data as Invocation;
    else if (event.event === "problem") {
      if (isProblem(data)) throw new ProblemError(data);
      throw new ProblemError({ type: "about:blank", title: "The call failed", status: 0 });
    }
  }
  throw new ProblemError({
    type: "about:blank",
    title: "The answer ended early",
    status: 0,
    detail: "The server closed the stream before sending a result. Try again.",
  });
}
