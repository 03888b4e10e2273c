import { VisuallyHidden } from "@mantine/core";
import { Fragment, useMemo } from "react";

import "./cedar.css";
import { tokenLines, type Token } from "./cedar";
import type { DiffLine } from "./diff";

export interface LineMessage {
  line: number;
  message: string;
}

function Tokens({ tokens }: { tokens: Token[] }) {
  return (
    <>
      {tokens.map((t, i) =>
        t.kind === "space" || t.kind === "identifier" || t.kind === "operator" || t.kind === "punctuation" ? (
          <Fragment key={i}>{t.text}</Fragment>
        ) : (
          <span key={i} className={`cedar-${t.kind}`}>
            {t.text}
          </span>
        ),
      )}
    </>
  );
}

/** Cedar text, highlighted, with line numbers; `messages` show under the lines they are about. */
export function CedarCode({
  text,
  label,
  messages = [],
  testId,
}: {
  text: string;
  label: string;
  messages?: LineMessage[];
  testId?: string;
}) {
  // A final newline ends the last line; it does not start an empty one.
  const lines = useMemo(() => tokenLines(text.endsWith("\n") ? text.slice(0, -1) : text), [text]);
  const byLine = new Map<number, string[]>();
  for (const m of messages) byLine.set(m.line, [...(byLine.get(m.line) ?? []), m.message]);
  return (
    <div className="sc-code" role="region" aria-label={label} tabIndex={0} data-testid={testId}>
      {lines.map((tokens, index) => {
        const number = index + 1;
        const notes = byLine.get(number);
        return (
          <Fragment key={number}>
            <div className="sc-code-line" data-error={notes ? "" : undefined}>
              <span className="sc-code-gutter" aria-hidden>
                {number}
              </span>
              <span className="sc-code-text">
                <Tokens tokens={tokens} />
              </span>
            </div>
            {notes?.map((note) => (
              <div className="sc-code-line" data-error="" key={note} data-testid="line-problem">
                <span className="sc-code-gutter" aria-hidden>
                  ▲
                </span>
                <span className="sc-code-text cedar-string">
                  <VisuallyHidden>Problem on line {number}: </VisuallyHidden>
                  {note}
                </span>
              </div>
            ))}
          </Fragment>
        );
      })}
    </div>
  );
}

const MARK: Record<DiffLine["op"], string> = { added: "+", removed: "-", same: " " };
const SAID: Record<DiffLine["op"], string> = { added: "added: ", removed: "removed: ", same: "" };

/** A line diff: `+` and `-` in the margin, a tinted row, and the words for screen readers. */
export function DiffView({ lines, label }: { lines: DiffLine[]; label: string }) {
  return (
    <div className="sc-code" role="region" aria-label={label} tabIndex={0} data-testid="policy-diff">
      {lines.map((line, index) => (
        <div
          key={index}
          className="sc-code-line"
          data-op={line.op === "same" ? undefined : line.op}
          data-testid={line.op === "same" ? undefined : `diff-${line.op}`}
        >
          <span className="sc-code-gutter" aria-hidden>
            {line.oldLine ?? ""}
          </span>
          <span className="sc-code-gutter" aria-hidden>
            {line.newLine ?? ""}
          </span>
          <span className="sc-code-marker" aria-hidden>
            {MARK[line.op]}
          </span>
          <span className="sc-code-text">
            {line.op === "same" ? null : <VisuallyHidden>{SAID[line.op]}</VisuallyHidden>}
            <Tokens tokens={tokenLines(line.text)[0] ?? []} />
          </span>
        </div>
      ))}
    </div>
  );
}
