// A small tokenizer for Cedar policy text, enough to colour it and to find where each policy
// starts and ends. It never fails: whatever it does not recognise becomes a plain token.

export type TokenKind =
  | "keyword"
  | "string"
  | "comment"
  | "entity"
  | "annotation"
  | "number"
  | "operator"
  | "punctuation"
  | "identifier"
  | "space";

export interface Token {
  kind: TokenKind;
  text: string;
}

export const KEYWORDS = new Set([
  "permit",
  "forbid",
  "when",
  "unless",
  "principal",
  "action",
  "resource",
  "context",
  "in",
  "has",
  "like",
  "is",
  "if",
  "then",
  "else",
  "true",
  "false",
]);

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;
const OPERATORS = ["==", "!=", "<=", ">=", "&&", "||", "::", "<", ">", "!", "+", "-", "*"];

/** The end (exclusive) of a string literal whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else if (c === "\n") return i; // an unterminated string stops at the line's end
    else i += 1;
  }
  return text.length;
}

/** An entity reference starting at `start`: `Name::"id"` or `A::B::"id"`; its end, or -1. */
function entityEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    if (!IDENT_START.test(text[i] ?? "")) return -1;
    while (IDENT.test(text[i] ?? "")) i += 1;
    if (!text.startsWith("::", i)) return -1;
    i += 2;
    if (text[i] === '"') return stringEnd(text, i);
  }
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: text.slice(i, end) });
    i = end;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (SPACE.test(c)) {
      let end = i + 1;
      while (end < text.length && SPACE.test(text[end]!)) end += 1;
      push("space", end);
    } else if (text.startsWith("//", i)) {
      const newline = text.indexOf("\n", i);
      push("comment", newline < 0 ? text.length : newline);
    } else if (c === '"') {
      push("string", stringEnd(text, i));
    } else if (c === "@") {
      let end = i + 1;
      while (end < text.length && IDENT.test(text[end]!)) end += 1;
      push("annotation", end);
    } else if (IDENT_START.test(c)) {
      const entity = entityEnd(text, i);
      if (entity > 0) {
        push("entity", entity);
      } else {
        let end = i + 1;
        while (end < text.length && IDENT.test(text[end]!)) end += 1;
        push(KEYWORDS.has(text.slice(i, end)) ? "keyword" : "identifier", end);
      }
    } else if (DIGIT.test(c)) {
      let end = i + 1;
      while (end < text.length && DIGIT.test(text[end]!)) end += 1;
      push("number", end);
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) push("operator", i + op.length);
      else push("punctuation", i + 1);
    }
  }
  return tokens;
}

/** The tokens of `text` split into lines (a token spanning lines is cut at each newline). */
export function tokenLines(text: string): Token[][] {
  const lines: Token[][] = [[]];
  for (const token of tokenize(text)) {
    const parts = token.text.split("\n");
    parts.forEach((part, index) => {
      if (index > 0) lines.push([]);
      if (part) lines[lines.length - 1]!.push({ kind: token.kind, text: part });
    });
  }
  return lines;
}

export interface PolicySpan {
  /** Cedar's positional name: `policy0`, `policy1`, … */
  name: string;
  /** The `@id` annotation's value, when there is one. */
  id?: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

/** Each policy of the text (annotations included, up to its `;`) with the lines it covers. */
export function policySpans(text: string): PolicySpan[] {
  const spans: PolicySpan[] = [];
  let line = 1;
  let start: number | null = null;
  let id: string | undefined;
  let depth = 0;
  // Reading `@id("…")`: 1 after `@id`, 2 after its `(`.
  let reading = 0;
  for (const token of tokenize(text)) {
    const meaningful = token.kind !== "space" && token.kind !== "comment";
    if (meaningful && start === null) start = line;
    if (meaningful) {
      if (token.kind === "annotation") reading = token.text === "@id" ? 1 : 0;
      else if (reading === 1 && token.text === "(") reading = 2;
      else if (reading === 2 && token.kind === "string") {
        id ??= unquote(token.text);
        reading = 0;
      } else reading = 0;
    }
    if (token.kind === "punctuation") {
      if ("([{".includes(token.text)) depth += 1;
      else if (")]}".includes(token.text)) depth = Math.max(0, depth - 1);
      else if (token.text === ";" && depth === 0 && start !== null) {
        spans.push({ name: `policy${spans.length}`, id, startLine: start, endLine: line });
        start = null;
        id = undefined;
      }
    }
    line += token.text.split("\n").length - 1;
  }
  if (start !== null) spans.push({ name: `policy${spans.length}`, id, startLine: start, endLine: line });
  return spans;
}

function unquote(literal: string): string {
  return literal.replace(/^"/, "").replace(/"$/, "").replace(/\\(.)/g, "$1");
}

/** The actions a schema declares (`action "a", "b" appliesTo …`), in order. */
export function schemaActions(schema: string): string[] {
  const match = /\baction\s+([\s\S]*?)\bappliesTo\b/.exec(schema);
  if (!match) return [];
  return [...match[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

/**
 * The lines a validation problem is about, when it says: an explicit `line N`, a policy named
 * by position (`policy0`) or by `@id`. Empty when the message does not tell.
 */
export function problemLines(problem: string, text: string): number[] {
  const explicit = /\bline (\d+)/i.exec(problem) ?? /\b(\d+):(\d+)\b/.exec(problem);
  if (explicit) return [Number(explicit[1])];
  const spans = policySpans(text);
  const positional = /\bpolicy(\d+)\b/.exec(problem);
  let span = positional ? spans.find((s) => s.name === `policy${positional[1]}`) : undefined;
  if (!span) {
    const named = /@id '([^']*)'|@id "([^"]*)"/.exec(problem);
    const id = named?.[1] ?? named?.[2];
    if (id !== undefined) span = [...spans].reverse().find((s) => s.id === id);
  }
  if (!span) return [];
  const lines: number[] = [];
  for (let l = span.startLine; l <= span.endLine; l += 1) lines.push(l);
  return lines;
}
