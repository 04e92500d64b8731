// The conformance table of a tests/clients/conformance.sh run, by scenario:
// node conformance-table.mjs RESULTS_DIR. A scenario passes when none of
// its checks failed or warned, and at least one succeeded. For 2026-07-28, the scenarios the revision
// scores are those of the suite's requirements/2026-07-28.yaml `server:`
// list; the rest it runs (`not_scored`) are counted apart.
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const results = process.argv[2];
const version = (pkg) => JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"))).version;

/** scenario -> {pass, checks} for one labelled run. */
function scenarios(label) {
  const out = new Map();
  for (const dir of readdirSync(join(results, label))) {
    const name = dir.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "");
    const checks = JSON.parse(readFileSync(join(results, label, dir, "checks.json")));
    // A scenario whose checks were all skipped (a prerequisite absent) has not passed.
    const pass = checks.some((c) => c.status === "SUCCESS") && checks.every((c) => c.status !== "FAILURE" && c.status !== "WARNING");
    // One the suite itself skips whatever the server does (a check it has
    // not written yet) is shown apart, not counted.
    const skipped = checks.length > 0 && checks.every((c) => c.status === "SKIPPED");
    out.set(name, { pass, skipped, checks: checks.length });
  }
  return out;
}

const count = (map, keep = () => true) => {
  const all = [...map.keys()].filter(keep);
  const names = all.filter((n) => !map.get(n).skipped);
  const skipped = all.filter((n) => map.get(n).skipped);
  const note = skipped.length ? ` (and ${skipped.join(", ")}, which the suite skips)` : "";
  return `${names.filter((n) => map.get(n).pass).length} / ${names.length}${note}`;
};

// The revision's scored server scenarios: the `server:` list of its requirements file.
const requirements = readFileSync(join(here, "node_modules/conformance-2026/requirements/2026-07-28.yaml"), "utf8");
const scored = new Set();
for (const line of requirements.split("server:\n")[1].split("\n")) {
  const m = line.match(/^  - ([a-z0-9-]+)\s*$/);
  if (m) scored.add(m[1]);
  else if (line && !line.startsWith(" ") && !line.startsWith("#")) break;
}

const legacy = scenarios("2025 active (0.1.16)");
const modern = scenarios("2026-07-28 requirements (alpha.12)");
const skills = new Map(["sep-2640-skills-enumeration", "sep-2640-skills-manifest", "sep-2640-skills-directory"].flatMap((s) => [...scenarios(s)]));
const checks = (map) => [...map.values()].reduce((n, s) => n + s.checks, 0);

const rows = [
  ["suite", "revision or extension", "scenarios passed"],
  [`${version("@modelcontextprotocol/conformance")}`, "2025-11-25 (active suite)", count(legacy)],
  [`${version("conformance-2026")}`, "2026-07-28, scored", count(modern, (n) => scored.has(n))],
  [`${version("conformance-2026")}`, "2026-07-28, run but not scored", count(modern, (n) => !scored.has(n) && !n.startsWith("tasks-"))],
  [`${version("conformance-2026")}`, `Skills extension (SEP-2640), ${checks(skills)} checks`, count(skills)],
  [`${version("conformance-2026")}`, `Tasks extension (SEP-2663), ${checks(new Map([...modern].filter(([n]) => n.startsWith("tasks-"))))} checks`, count(modern, (n) => n.startsWith("tasks-"))],
];
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.join(" | ")} |`);
  if (i === 0) console.log("|---|---|---|");
}
