// The two kinds of context the host creates, and the table that maps host context ids to them.
// Shaped after the proxy-wasm Rust SDK: a root context per plugin (configuration, timers, shared state)
// and a stream context per connection (network filter callbacks).
import { collectSoon, owe } from "./gc";
import { FilterStatus, PeerType } from "./host";

export abstract class RootContext {
  constructor(public readonly id: u32) {}
  /** VM start; `size` is the length of the VM configuration. */
  onVmStart(size: u32): bool { return true; }
  /** Plugin configuration changed (or first arrived); `size` is its length. Return false to reject it. */
  onConfigure(size: u32): bool { return true; }
  onTick(): void {}
  onQueueReady(token: u32): void {}
  onForeignFunction(functionId: u32, size: u32): void {}
  /** A gRPC call of this root (abi/grpc.ts) got its message, `size` bytes in the GrpcReceiveBuffer. */
  onGrpcReceive(token: u32, size: u32): void {}
  /** A gRPC call of this root ended without a message: `status` is its gRPC status (Envoy: failures only). */
  onGrpcClose(token: u32, status: u32): void {}
  /** The answer to a proxy_http_call of this context (http_call.ts); numHeaders 0: the call failed. */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}
  /** Return false to ask the host to wait for an asynchronous `proxy_done`. */
  onDone(): bool { return true; }
  onDelete(): void {}
  abstract newStream(id: u32): StreamContext;
}

export abstract class StreamContext {
  constructor(public readonly id: u32) {}
  onNewConnection(): FilterStatus { return FilterStatus.Continue; }
  /** Bytes from the client towards the upstream; `length` is the whole buffered read data. */
  onDownstreamData(length: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  /** Bytes from the upstream being written to the client. Envoy cannot pause this direction. */
  onUpstreamData(length: u32, endOfStream: bool): FilterStatus { return FilterStatus.Continue; }
  onDownstreamClose(peer: PeerType): void {}
  onUpstreamClose(peer: PeerType): void {}
  onDone(): bool { return true; }
  onLog(): void {}
  onDelete(): void {}
}

type RootFactory = (id: u32) => RootContext;

let rootFactory: RootFactory | null = null;
const roots = new Map<u32, RootContext>();
const streams = new Map<u32, StreamContext>();

export function setRootContextFactory(factory: RootFactory): void {
  rootFactory = factory;
}

export function createContext(id: u32, parentId: u32): void {
  if (parentId == 0) {
    if (!roots.has(id)) roots.set(id, (rootFactory as RootFactory)(id));
    return;
  }
  if (!roots.has(parentId) || streams.has(id)) return;
  streams.set(id, roots.get(parentId).newStream(id));
}

export function hasRoot(id: u32): bool { return roots.has(id); }
export function root(id: u32): RootContext { return roots.get(id); }

/**
 * The stream context of `id`, null when the host names one the module does not know. The last one
 * found is remembered: a connection's callbacks often come one after another (its read, then the
 * answer), and each lookup is a hash probe of the map.
 */
export function findStream(id: u32): StreamContext | null {
  if (id == lastStreamId && lastStream !== null) return lastStream;
  if (!streams.has(id)) return null;
  const s = streams.get(id);
  lastStreamId = id;
  lastStream = s;
  return s;
}

let lastStreamId: u32 = 0;
let lastStream: StreamContext | null = null;

/**
 * What a connection's objects leave to the collector when it ends (gc.ts): measured ~3-6 KB per
 * connection in the bench's configuration (Connection, frame streams, in-flight table, label caches).
 */
const STREAM_GARBAGE_BYTES: u64 = 8 << 10;

export function deleteContext(id: u32): void {
  if (streams.has(id)) {
    streams.get(id).onDelete();
    streams.delete(id);
    if (id == lastStreamId) lastStream = null;
    owe(STREAM_GARBAGE_BYTES);
  } else if (roots.has(id)) {
    roots.get(id).onDelete();
    roots.delete(id);
    collectSoon();
  }
}
