// A line diff by longest common subsequence: small texts (policies are at most 64 KiB), so the
// quadratic table is fine; past a size limit the diff falls back to "all removed, all added".

export type DiffOp = "same" | "added" | "removed";

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** 1-based line numbers in the old and the new text (absent on the side without the line). */
  oldLine?: number;
  newLine?: number;
}

const MAX_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  if (text === "") return [];
  return text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
}

export function lineDiff(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Lines both texts start and end with are the same; the table covers only the middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail += 1;
  }
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);

  const out: DiffLine[] = [];
  for (let i = 0; i < head; i += 1) out.push({ op: "same", text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  out.push(...middle(midA, midB, head));
  for (let k = tail; k > 0; k -= 1) {
    const i = a.length - k;
    const j = b.length - k;
    out.push({ op: "same", text: a[i]!, oldLine: i + 1, newLine: j + 1 });
  }
  return out;
}

function middle(a: string[], b: string[], offset: number): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    return [
      ...a.map((text, i) => ({ op: "removed" as const, text, oldLine: offset + i + 1 })),
      ...b.map((text, j) => ({ op: "added" as const, text, newLine: offset + j + 1 })),
    ];
  }
  // lcs[i][j]: the LCS length of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: "same", text: a[i]!, oldLine: offset + i + 1, newLine: offset + j + 1 });
      i += 1;
      j += 1;
    } else if (i < n && (j === m || lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
      out.push({ op: "removed", text: a[i]!, oldLine: offset + i + 1 });
      i += 1;
    } else {
      out.push({ op: "added", text: b[j]!, newLine: offset + j + 1 });
      j += 1;
    }
  }
  return out;
}

export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((l) => l.op === "added").length,
    removed: lines.filter((l) => l.op === "removed").length,
  };
}
