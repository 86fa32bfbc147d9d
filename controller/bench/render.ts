// Benchmark: the translation of 10,000 Meltemi services (each with a DestinationRule, a MetaRouter with
// a weighted split and a local rate limit) and their YAML output. Prints the times; docs/performance.md's bar
// is < 2 s. Not a test: timings vary with the machine.
//   node --import tsx controller/bench/render.ts [services] [--compare]
// Wall time and process CPU time (user + system, all threads, so the garbage collector's helpers too)
// per phase; on a shared machine the CPU time is the steadier of the two.
// --compare also writes the YAML with the `yaml` package alone (what render used before plain_yaml.ts),
// checks that the bytes are identical and prints its time, a ratio measured in the same run.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { stringify } from "yaml";
import { toYaml } from "../render/output";
import { render } from "../render/render";
import { translate } from "../translate/translate";
import { benchOptions, benchSnapshot } from "./snapshot";

const args = process.argv.slice(2);
const compare = args.includes("--compare");
const count = Number(args.find((a) => !a.startsWith("--")) ?? 10_000);

interface Mark {
  wall: number;
  cpu: number;
}
const mark = (): Mark => {
  const u = process.cpuUsage();
  return { wall: performance.now(), cpu: (u.user + u.system) / 1000 };
};
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const span = (a: Mark, b: Mark) => `${seconds(b.wall - a.wall)} (cpu ${seconds(b.cpu - a.cpu)})`;

const snapshot = benchSnapshot(count);
const m0 = mark();
const result = translate(snapshot, benchOptions);
const m1 = mark();
const yaml = toYaml(result.objects);
const m2 = mark();
const errors = result.diagnostics.filter((d) => d.severity === "error").length;
console.log(`services: ${count}, objects: ${result.objects.length}, errors: ${errors}, YAML: ${(yaml.length / 1e6).toFixed(1)} MB`);
console.log(`translate: ${span(m0, m1)}, YAML: ${span(m1, m2)}, total: ${span(m0, m2)} (bar: < 2 s)`);

// End to end, as `meltemi render -f <dir>` runs: the same inputs as YAML files (written first, not
// timed), read, parsed, classified, translated and written out.
{
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-render-bench-"));
  try {
    const inputs = [...snapshot.services, ...snapshot.destinationRules, ...snapshot.metaRouters];
    fs.writeFileSync(path.join(dir, "inputs.yaml"), toYaml(inputs as never[]));
    const m5 = mark();
    const r = await render({ files: [dir], output: "yaml", namespace: "default", showStatus: false, options: benchOptions, readStdin: async () => "" });
    const m6 = mark();
    if (r.exitCode !== 0 || r.stdout !== yaml) {
      console.log(`render -f: exit ${r.exitCode}, output ${r.stdout === yaml ? "identical" : "DIFFERENT from the in-memory translation"}`);
      process.exitCode = 1;
    }
    console.log(`render -f (read + parse ${inputs.length} input objects, translate, YAML): ${span(m5, m6)} (bar: < 2 s)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (compare) {
  const m3 = mark();
  const reference = result.objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
  const m4 = mark();
  const same = reference === yaml;
  console.log(`yaml package alone: ${span(m3, m4)}, ${((m4.wall - m3.wall) / (m2.wall - m1.wall)).toFixed(1)}x the writer's time; output ${same ? "byte-identical" : "DIFFERENT"}`);
  if (!same) process.exitCode = 1;
}
