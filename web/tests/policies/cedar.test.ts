import { describe, expect, it } from "vitest";

import { policySpans, problemLines, schemaActions, tokenize, tokenLines } from "../../src/pages/policies/cedar";
import { diffStats, lineDiff } from "../../src/pages/policies/diff";

const POLICY = `// Office hours
@id("office-hours")
forbid (principal in Role::"contractor", action == Action::"servers:write", resource)
unless { context.minute_of_day >= 480 && resource.name like "*pay*" };

permit (principal, action, resource is Server)
when { resource has tags && if true then 1 else 2 };`;

describe("the Cedar tokenizer", () => {
  it("finds keywords, strings, comments, annotations, entity references and numbers", () => {
    const kinds = (kind: string) => tokenize(POLICY).filter((t) => t.kind === kind).map((t) => t.text);
    expect(kinds("comment")).toEqual(["// Office hours"]);
    expect(kinds("annotation")).toEqual(["@id"]);
    expect(kinds("entity")).toEqual(['Role::"contractor"', 'Action::"servers:write"']);
    expect(kinds("string")).toEqual(['"office-hours"', '"*pay*"']);
    expect(kinds("number")).toEqual(["480", "1", "2"]);
    expect(kinds("keyword")).toEqual(
      expect.arrayContaining(["forbid", "permit", "principal", "in", "action", "resource", "unless", "when", "like", "has", "is", "if", "then", "else"]),
    );
    // Words that are not keywords stay plain.
    expect(kinds("identifier")).toEqual(expect.arrayContaining(["minute_of_day", "name", "tags", "Server"]));
  });

  it("gives back the text it was given, whatever it holds", () => {
    for (const text of [POLICY, 'forbid "unterminated\nnext', "§ weird ~ chars ::", "a::b::\"c\\\"d\""]) {
      expect(tokenize(text).map((t) => t.text).join("")).toBe(text);
    }
  });

  it("keeps a string with an escaped quote or a // inside as one token", () => {
    const tokens = tokenize('"a \\" // b" // c');
    expect(tokens[0]).toEqual({ kind: "string", text: '"a \\" // b"' });
    expect(tokens.at(-1)).toEqual({ kind: "comment", text: "// c" });
  });

  it("splits tokens into lines", () => {
    const lines = tokenLines("permit\n(principal);");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual([{ kind: "keyword", text: "permit" }]);
  });
});

describe("where the policies are", () => {
  it("names each policy by position, with its @id and its lines", () => {
    expect(policySpans(POLICY)).toEqual([
      { name: "policy0", id: "office-hours", startLine: 2, endLine: 4 },
      { name: "policy1", id: undefined, startLine: 6, endLine: 7 },
    ]);
  });

  it("ties a problem to the lines of the policy it names", () => {
    const schema = "schema: for policy `policy1`, attribute `nope` on entity type `User` not found";
    expect(problemLines(schema, POLICY)).toEqual([6, 7]);
    expect(problemLines("duplicate @id 'office-hours'", POLICY)).toEqual([2, 3, 4]);
    expect(problemLines("syntax: error at line 3, column 7", POLICY)).toEqual([3]);
    expect(problemLines("syntax: unexpected token `action`", POLICY)).toEqual([]);
  });

  it("reads the actions a schema declares", () => {
    const schema = `type RequestContext = { action: String };
action "api_keys:read", "servers:write"
  appliesTo { principal: [User] };`;
    expect(schemaActions(schema)).toEqual(["api_keys:read", "servers:write"]);
  });
});

describe("the line diff", () => {
  it("marks added and removed lines around the common ones", () => {
    const lines = lineDiff("a\nb\nc\nd", "a\nc\nd\ne");
    expect(lines.map((l) => `${l.op[0]}${l.text}`)).toEqual(["sa", "rb", "sc", "sd", "ae"]);
    expect(lines[1]).toMatchObject({ oldLine: 2 });
    expect(lines[1]!.newLine).toBeUndefined();
    expect(lines[4]).toMatchObject({ newLine: 4 });
    expect(diffStats(lines)).toEqual({ added: 1, removed: 1 });
  });

  it("shows a changed line as removed, then added", () => {
    const lines = lineDiff("x\nold\ny", "x\nnew\ny");
    expect(lines.map((l) => l.op)).toEqual(["same", "removed", "added", "same"]);
  });

  it("handles empty texts", () => {
    expect(lineDiff("", "")).toEqual([]);
    expect(lineDiff("", "a\nb").map((l) => l.op)).toEqual(["added", "added"]);
    expect(lineDiff("a\n", "").map((l) => l.op)).toEqual(["removed"]);
  });
});
