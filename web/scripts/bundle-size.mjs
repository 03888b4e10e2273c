// The JavaScript a first visit loads (the entry script and the chunks index.html preloads),
// gzipped; fails above the budget. Screens loaded later on demand are listed apart.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 300;
const dist = new URL("../../src/sprintconnect/console/static/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const initial = new Set(
  [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]),
);
const gz = (file) => gzipSync(readFileSync(join(dist, file))).length / 1024;

let first = 0;
let later = 0;
for (const name of readdirSync(join(dist, "assets")).filter((n) => n.endsWith(".js"))) {
  const file = `assets/${name}`;
  if (initial.has(file)) first += gz(file);
  else later += gz(file);
}
const css = readdirSync(join(dist, "assets"))
  .filter((n) => n.endsWith(".css"))
  .reduce((sum, n) => sum + gz(`assets/${n}`), 0);
console.log(
  `console bundle: first load ${first.toFixed(1)} kB of JavaScript gzipped ` +
    `(budget ${BUDGET_KB} kB), ${css.toFixed(1)} kB CSS; ${later.toFixed(1)} kB more in ` +
    `screens loaded on demand`,
);
if (first > BUDGET_KB) {
  console.error(`the first load exceeds the ${BUDGET_KB} kB budget`);
  process.exit(1);
}
