// A test module for the host's own tests: a few lines of WAT whose proxy_on_* callbacks ask JS hooks
// what to do. A hook may call any ABI function through the module (exports `call_<name>` forward to
// `env.proxy_<name>`), so each test states the exact ABI calls it makes, in the right context, without
// an SDK in between. A hook that returns TRAP makes the callback execute `unreachable`.
// wabt compiles the WAT: it is the reference text-to-binary tool of the WebAssembly project.
import wabt from "wabt";
import { WasmResult } from "./abi";

export const TRAP = -1;

// [import name, parameter types]; all return i32.
const ABI_CALLS: Array<[string, string[]]> = [
  ["log", ["i32", "i32", "i32"]],
  ["get_log_level", ["i32"]],
  ["get_current_time_nanoseconds", ["i32"]],
  ["set_tick_period_milliseconds", ["i32"]],
  ["get_property", ["i32", "i32", "i32", "i32"]],
  ["set_property", ["i32", "i32", "i32", "i32"]],
  ["get_buffer_bytes", ["i32", "i32", "i32", "i32", "i32"]],
  ["get_buffer_status", ["i32", "i32", "i32"]],
  ["set_buffer_bytes", ["i32", "i32", "i32", "i32", "i32"]],
  ["continue_stream", ["i32"]],
  ["close_stream", ["i32"]],
  ["get_shared_data", ["i32", "i32", "i32", "i32", "i32"]],
  ["set_shared_data", ["i32", "i32", "i32", "i32", "i32"]],
  ["register_shared_queue", ["i32", "i32", "i32"]],
  ["resolve_shared_queue", ["i32", "i32", "i32", "i32", "i32"]],
  ["enqueue_shared_queue", ["i32", "i32", "i32"]],
  ["dequeue_shared_queue", ["i32", "i32", "i32"]],
  ["define_metric", ["i32", "i32", "i32", "i32"]],
  ["increment_metric", ["i32", "i64"]],
  ["record_metric", ["i32", "i64"]],
  ["get_metric", ["i32", "i32"]],
  ["call_foreign_function", ["i32", "i32", "i32", "i32", "i32", "i32"]],
  ["set_effective_context", ["i32"]],
  ["done", []],
];
// Not in any ABI: with `unknownImport`, checks that an unknown import is stubbed instead of failing the load.
const UNKNOWN_CALL: [string, string[]] = ["future_feature", ["i32"]];

// [callback, parameter count, has a result]
const CALLBACKS: Array<[string, number, boolean]> = [
  ["on_context_create", 2, false], ["on_vm_start", 2, true], ["on_configure", 2, true], ["on_tick", 1, false],
  ["on_queue_ready", 2, false], ["on_new_connection", 1, true], ["on_downstream_data", 3, true],
  ["on_upstream_data", 3, true], ["on_downstream_connection_close", 2, false],
  ["on_upstream_connection_close", 2, false], ["on_done", 1, true], ["on_log", 1, false], ["on_delete", 1, false],
];

function puppetWat(unknownImport: boolean): string {
  const calls = unknownImport ? [...ABI_CALLS, UNKNOWN_CALL] : ABI_CALLS;
  const params = (types: string[]) => types.map((t) => `(param ${t})`).join(" ");
  const gets = (n: number) => Array.from({ length: n }, (_, i) => `(local.get ${i})`).join(" ");
  const lines = ["(module"];
  for (const [name, types] of calls) lines.push(`  (import "env" "proxy_${name}" (func $${name} ${params(types)} (result i32)))`);
  for (const [name, n] of CALLBACKS) lines.push(`  (import "puppet" "${name}" (func $hook_${name} ${params(Array(n).fill("i32"))} (result i32)))`);
  lines.push(`  (import "puppet" "initialize" (func $hook_initialize (result i32)))`);
  lines.push(`  (memory (export "memory") 2)`);
  lines.push(`  (global $heap (mut i32) (i32.const 4096))`);
  lines.push(`  (func (export "proxy_abi_version_0_2_1"))`);
  // A bump allocator that grows memory as needed: enough for tests.
  lines.push(`  (func (export "malloc") (param $size i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.const 1)
        (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536))) (i32.const 16)))))))
    (local.get $p))`);
  lines.push(`  (func $check (param i32) (result i32) (if (i32.eq (local.get 0) (i32.const ${TRAP})) (then unreachable)) (local.get 0))`);
  lines.push(`  (func (export "_initialize") (drop (call $check (call $hook_initialize))))`);
  for (const [name, n, hasResult] of CALLBACKS) {
    const call = `(call $check (call $hook_${name} ${gets(n)}))`;
    lines.push(`  (func (export "proxy_${name}") ${params(Array(n).fill("i32"))} ${hasResult ? `(result i32) ${call}` : `(drop ${call})`})`);
  }
  for (const [name, types] of calls) {
    lines.push(`  (func (export "call_${name}") ${params(types)} (result i32) (call $${name} ${gets(types.length)}))`);
  }
  lines.push(")");
  return lines.join("\n");
}

const compiled = new Map<boolean, Promise<Uint8Array>>();
/** The puppet module; `unknownImport` adds an import no host knows (env.proxy_future_feature). */
export function puppetWasm(options: { unknownImport?: boolean } = {}): Promise<Uint8Array> {
  const unknownImport = options.unknownImport ?? false;
  let module = compiled.get(unknownImport);
  if (!module) {
    module = wabt().then((w) => {
      const parsed = w.parseWat("puppet.wat", puppetWat(unknownImport));
      try {
        parsed.validate();
        return parsed.toBinary({}).buffer;
      } finally {
        parsed.destroy();
      }
    });
    compiled.set(unknownImport, module);
  }
  return module;
}

type Hook = (...args: number[]) => number | void;
const DEFAULT_RESULT: Record<string, number> = { on_vm_start: 1, on_configure: 1, on_done: 1 };

/** Hooks by callback name ("on_downstream_data", ...), the callbacks seen, and typed ABI helpers. */
export class Puppet {
  hooks: Record<string, Hook> = {};
  /** Every callback, as "name(arg, ...)". */
  readonly events: string[] = [];
  private exports: Record<string, (...args: Array<number | bigint>) => number> | null = null;
  private memory: WebAssembly.Memory | null = null;

  /** The import modules to pass to WasmHost.load (option `imports`). */
  imports(): WebAssembly.Imports {
    const puppet: Record<string, (...args: number[]) => number> = {
      initialize: () => this.run("initialize", []),
    };
    for (const [name] of CALLBACKS) puppet[name] = (...args: number[]) => this.run(name, args);
    return { puppet };
  }

  /** Gives the helpers access to the instance (after WasmHost.load). */
  attach(exports: WebAssembly.Exports): void {
    this.exports = exports as unknown as Record<string, (...args: Array<number | bigint>) => number>;
    this.memory = exports.memory as WebAssembly.Memory;
  }

  // ---- ABI helpers: usable inside a hook (the host needs a current context) ----
  setBufferBytes(type: number, start: number, length: number, data: string | Uint8Array): WasmResult {
    const [ptr, size] = this.put(data);
    return this.call("set_buffer_bytes", type, start, length, ptr, size);
  }
  getBufferBytes(type: number, start: number, length: number): { result: WasmResult; bytes: Buffer } {
    const out = this.scratch(8);
    const result = this.call("get_buffer_bytes", type, start, length, out, out + 4);
    return { result, bytes: result === WasmResult.Ok ? this.readOut(out) : Buffer.alloc(0) };
  }
  bufferLength(type: number): { result: WasmResult; length: number } {
    const out = this.scratch(8);
    const result = this.call("get_buffer_status", type, out, out + 4);
    return { result, length: this.u32(out) };
  }
  continueStream(type: number): WasmResult {
    return this.call("continue_stream", type);
  }
  closeStream(type: number): WasmResult {
    return this.call("close_stream", type);
  }
  setEffectiveContext(id: number): WasmResult {
    return this.call("set_effective_context", id);
  }
  setTickPeriod(ms: number): WasmResult {
    return this.call("set_tick_period_milliseconds", ms);
  }
  nowNanos(): bigint {
    const out = this.scratch(8);
    this.call("get_current_time_nanoseconds", out);
    return new DataView(this.memory!.buffer).getBigUint64(out, true);
  }
  getSharedData(key: string): { result: WasmResult; value: Buffer; cas: number } {
    const [kp, ks] = this.put(key);
    const out = this.scratch(12);
    const result = this.call("get_shared_data", kp, ks, out, out + 4, out + 8);
    return { result, value: result === WasmResult.Ok ? this.readOut(out) : Buffer.alloc(0), cas: this.u32(out + 8) };
  }
  setSharedData(key: string, value: string, cas: number): WasmResult {
    const [kp, ks] = this.put(key);
    const [vp, vs] = this.put(value);
    return this.call("set_shared_data", kp, ks, vp, vs, cas);
  }
  registerQueue(name: string): { result: WasmResult; token: number } {
    const [np, ns] = this.put(name);
    const out = this.scratch(4);
    const result = this.call("register_shared_queue", np, ns, out);
    return { result, token: this.u32(out) };
  }
  resolveQueue(vmId: string, name: string): { result: WasmResult; token: number } {
    const [vp, vs] = this.put(vmId);
    const [np, ns] = this.put(name);
    const out = this.scratch(4);
    const result = this.call("resolve_shared_queue", vp, vs, np, ns, out);
    return { result, token: this.u32(out) };
  }
  enqueue(token: number, data: string): WasmResult {
    const [p, s] = this.put(data);
    return this.call("enqueue_shared_queue", token, p, s);
  }
  dequeue(token: number): { result: WasmResult; data: Buffer } {
    const out = this.scratch(8);
    const result = this.call("dequeue_shared_queue", token, out, out + 4);
    return { result, data: result === WasmResult.Ok ? this.readOut(out) : Buffer.alloc(0) };
  }
  defineMetric(type: number, name: string): { result: WasmResult; id: number } {
    const [np, ns] = this.put(name);
    const out = this.scratch(4);
    const result = this.call("define_metric", type, np, ns, out);
    return { result, id: this.u32(out) };
  }
  incrementMetric(id: number, delta: bigint): WasmResult {
    return this.call("increment_metric", id, delta);
  }
  recordMetric(id: number, value: bigint): WasmResult {
    return this.call("record_metric", id, value);
  }
  getMetric(id: number): { result: WasmResult; value: bigint } {
    const out = this.scratch(8);
    const result = this.call("get_metric", id, out);
    return { result, value: new DataView(this.memory!.buffer).getBigUint64(out, true) };
  }
  getProperty(path: string): { result: WasmResult; value: Buffer } {
    const [pp, ps] = this.put(path);
    const out = this.scratch(8);
    const result = this.call("get_property", pp, ps, out, out + 4);
    return { result, value: result === WasmResult.Ok ? this.readOut(out) : Buffer.alloc(0) };
  }
  setProperty(path: string, value: string): WasmResult {
    const [pp, ps] = this.put(path);
    const [vp, vs] = this.put(value);
    return this.call("set_property", pp, ps, vp, vs);
  }
  callForeign(name: string, args: Uint8Array): { result: WasmResult; data: Buffer } {
    const [np, ns] = this.put(name);
    const [ap, as] = this.put(args);
    const out = this.scratch(8);
    const result = this.call("call_foreign_function", np, ns, ap, as, out, out + 4);
    return { result, data: this.readOut(out) };
  }
  log(level: number, message: string): WasmResult {
    const [p, s] = this.put(message);
    return this.call("log", level, p, s);
  }
  futureFeature(): WasmResult {
    return this.call("future_feature", 0);
  }

  private run(name: string, args: number[]): number {
    this.events.push(`${name}(${args.join(",")})`);
    const hook = this.hooks[name];
    const r = hook ? hook(...args) : undefined;
    return r ?? DEFAULT_RESULT[name] ?? 0;
  }

  private call(name: string, ...args: Array<number | bigint>): WasmResult {
    if (!this.exports) throw new Error("Puppet.attach() first");
    return this.exports[`call_${name}`](...args);
  }

  /** Copies data into fresh module memory; returns [ptr, size]. */
  private put(data: string | Uint8Array): [number, number] {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const ptr = this.scratch(bytes.length);
    new Uint8Array(this.memory!.buffer).set(bytes, ptr);
    return [ptr, bytes.length];
  }

  private scratch(size: number): number {
    const ptr = this.exports!.malloc(Math.max(size, 1));
    new Uint8Array(this.memory!.buffer).fill(0, ptr, ptr + size);
    return ptr;
  }

  private u32(ptr: number): number {
    return new DataView(this.memory!.buffer).getUint32(ptr, true);
  }

  /** Reads the (pointer, size) pair at `out`. */
  private readOut(out: number): Buffer {
    const ptr = this.u32(out);
    const size = this.u32(out + 4);
    return Buffer.from(new Uint8Array(this.memory!.buffer, ptr, size));
  }
}
