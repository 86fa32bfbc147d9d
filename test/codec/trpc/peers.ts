// Real tRPC peers (test/peers/trpc: trpc-go v1.0.3, built by scripts/provision/trpc.sh): a server per
// name and one client process. Every wait is bounded; every process is killed by the caller (SIGKILL).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const STARTUP_MS = 20_000;
const CALL_MS = 20_000;

export const SERVICE = "trpc.meltemi.test.Greeter";
export const HELLO = `/${SERVICE}/Hello`;
export const NOTIFY = `/${SERVICE}/Notify`;

/** Builds the peer binary when needed (Go: about a minute with nothing cached, 25 s with the modules cached) and returns its path. */
export function trpcPeer(): string {
  return execFileSync(path.join(root, "scripts/provision/trpc.sh"), { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
}

class GoProcess {
  private readonly lines: string[] = [];
  private readonly output: string[] = [];
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    // trpc-go logs to stdout: the lines this driver reads have their own prefix.
    readline.createInterface({ input: child.stdout }).on("line", (l) => { this.lines.push(l); this.output.push(l); this.wake(); });
    readline.createInterface({ input: child.stderr }).on("line", (l) => { this.output.push(l); });
    child.on("exit", () => { this.exited = true; this.wake(); });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  async nextLine(prefix: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) { const l = this.lines.splice(0, i + 1)[i]; return l.slice(prefix.length); }
      if (this.exited) throw new Error(`${this.name} exited; output:\n${this.output.slice(-20).join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${prefix}" line within ${timeoutMs} ms; output:\n${this.output.slice(-20).join("\n")}`);
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 1000)); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  write(line: string): void { this.child.stdin.write(line + "\n"); }
  kill(): void { if (!this.exited) this.child.kill("SIGKILL"); }
}

/** A trpc-go server on a free 127.0.0.1 port: Hello answers "NAME:<body>:<oneway Notify calls seen>". */
export async function startTrpcServer(binary: string, name: string): Promise<{ port: number; kill(): void }> {
  const p = new GoProcess(`trpc server ${name}`, spawn(binary, ["server", name], { stdio: "pipe" }));
  try {
    const port = Number(await p.nextLine("listening ", STARTUP_MS));
    return { port, kill: () => p.kill() };
  } catch (e) { p.kill(); throw e; }
}

export interface TrpcCall {
  port: number;
  /** Calls naming the same conn share one connection (one pool, sequential calls). */
  conn?: string;
  method?: string;
  callee?: string;
  /** Default: trpc-go's own, trpc.client.<binary>.service. */
  caller?: string;
  body?: string;
  oneway?: boolean;
  meta?: Record<string, string>;
  timeoutMs?: number;
}
/** ok, or trpc-go's errs.Error: code, type (1 framework: this client's own; 3 callee framework: the answer's ret), msg. */
export interface TrpcResult { id: number; ok: boolean; body?: string; code?: number; type?: number; msg?: string }

/** The trpc-go client: one call at a time. */
export class TrpcClient {
  private next = 1;
  private constructor(private readonly p: GoProcess) {}

  static start(binary: string): TrpcClient {
    return new TrpcClient(new GoProcess("trpc client", spawn(binary, ["client"], { stdio: "pipe" })));
  }

  async call(c: TrpcCall): Promise<TrpcResult> {
    const id = this.next++;
    this.p.write(JSON.stringify({
      id, conn: c.conn ?? "default", target: `127.0.0.1:${c.port}`, method: c.method ?? HELLO, callee: c.callee ?? SERVICE, caller: c.caller ?? "",
      body: c.body ?? "", oneway: c.oneway ?? false, meta: c.meta ?? {}, timeoutMs: c.timeoutMs ?? 5000,
    }));
    const r = JSON.parse(await this.p.nextLine("result ", CALL_MS)) as TrpcResult;
    if (r.id !== id) throw new Error(`answer ${r.id} for call ${id}`);
    return r;
  }

  kill(): void { this.p.kill(); }
}
