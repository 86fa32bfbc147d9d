// V8's sampling CPU profiler (node:inspector) around a synchronous body: self time by function, and
// the share of samples in Wasm code (frames whose url is wasm://), which separates the module's own
// work from the Node host's JS around it.
import { Session } from "node:inspector/promises";
import path from "node:path";
import { repoRoot } from "../../test/envoy/envoy";

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; hitCount: number }
export interface SelfTime { total: number; wasmShare: number; top: [string, number][] }

export async function profile(body: () => void, intervalUs = 100): Promise<SelfTime> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
    await session.post("Profiler.start");
    body();
    const { profile: p } = await session.post("Profiler.stop");
    const by = new Map<string, number>();
    let total = 0;
    let wasm = 0;
    for (const node of (p as unknown as { nodes: ProfileNode[] }).nodes) {
      // The profiler's bookkeeping nodes are not the body's time.
      if (node.callFrame.functionName === "(root)" || node.callFrame.functionName === "(program)" || node.callFrame.functionName === "(idle)") continue;
      const f = node.callFrame;
      const isWasm = f.url.startsWith("wasm://");
      const where = isWasm ? "wasm" : f.url ? path.relative(repoRoot, f.url.replace(/^file:\/\//, "")) : "native";
      const key = `${f.functionName || "(anonymous)"}  [${where}]`;
      by.set(key, (by.get(key) ?? 0) + node.hitCount);
      total += node.hitCount;
      if (isWasm) wasm += node.hitCount;
    }
    return { total, wasmShare: total ? wasm / total : NaN, top: [...by].sort((a, b) => b[1] - a[1]) };
  } finally {
    session.disconnect();
  }
}

export function selfTimeText(s: SelfTime, n = 25): string {
  return [`samples: ${s.total}; in Wasm code: ${(100 * s.wasmShare).toFixed(1)}%`,
    ...s.top.slice(0, n).map(([k, v]) => `${(100 * v / s.total).toFixed(1).padStart(5)}%  ${k}`)].join("\n");
}
