// Calls from the host into the module (proxy-wasm ABI 0.2.1). Each export looks its context up and
// dispatches; an id the module does not know is ignored rather than trapping the VM. Only the root and
// network-filter callbacks are exported: a host skips callbacks a module does not export.
// Each one is wrapped in enter()/leave(): the return of the outermost callback is where the garbage
// collector may run (gc.ts).
import {
  createContext, deleteContext, findStream, hasRoot, root,
} from "./context";
import { enter, leave } from "./gc";
import { FilterStatus, PeerType } from "./host";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, parentId: u32): void {
  enter();
  createContext(id, parentId);
  leave();
}

export function proxy_on_vm_start(rootId: u32, size: u32): u32 {
  enter();
  const result: u32 = !hasRoot(rootId) || root(rootId).onVmStart(size) ? 1 : 0;
  leave();
  return result;
}

export function proxy_on_configure(rootId: u32, size: u32): u32 {
  enter();
  const result: u32 = hasRoot(rootId) && root(rootId).onConfigure(size) ? 1 : 0;
  leave();
  return result;
}

export function proxy_on_tick(rootId: u32): void {
  enter();
  if (hasRoot(rootId)) root(rootId).onTick();
  leave();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  enter();
  if (hasRoot(rootId)) root(rootId).onQueueReady(token);
  leave();
}

export function proxy_on_foreign_function(rootId: u32, functionId: u32, size: u32): void {
  enter();
  if (hasRoot(rootId)) root(rootId).onForeignFunction(functionId, size);
  leave();
}

// gRPC calls are made by root contexts only (abi/grpc.ts): the host delivers their outcome to the root.
export function proxy_on_grpc_receive(rootId: u32, token: u32, size: u32): void {
  enter();
  if (hasRoot(rootId)) root(rootId).onGrpcReceive(token, size);
  leave();
}

export function proxy_on_grpc_close(rootId: u32, token: u32, status: u32): void {
  enter();
  if (hasRoot(rootId)) root(rootId).onGrpcClose(token, status);
  leave();
}

export function proxy_on_new_connection(id: u32): FilterStatus {
  enter();
  const s = findStream(id);
  const result: FilterStatus = s !== null ? s.onNewConnection() : FilterStatus.Continue;
  leave();
  return result;
}

export function proxy_on_downstream_data(id: u32, length: u32, endOfStream: u32): FilterStatus {
  enter();
  const s = findStream(id);
  const result: FilterStatus = s !== null ? s.onDownstreamData(length, endOfStream != 0) : FilterStatus.Continue;
  leave();
  return result;
}

export function proxy_on_upstream_data(id: u32, length: u32, endOfStream: u32): FilterStatus {
  enter();
  const s = findStream(id);
  const result: FilterStatus = s !== null ? s.onUpstreamData(length, endOfStream != 0) : FilterStatus.Continue;
  leave();
  return result;
}

export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {
  enter();
  const s = findStream(id);
  if (s !== null) s.onDownstreamClose(peer as PeerType);
  leave();
}

export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {
  enter();
  const s = findStream(id);
  if (s !== null) s.onUpstreamClose(peer as PeerType);
  leave();
}

export function proxy_on_done(id: u32): u32 {
  enter();
  const s = findStream(id);
  const result: u32 = s !== null ? (s.onDone() ? 1 : 0) : hasRoot(id) ? (root(id).onDone() ? 1 : 0) : 1;
  leave();
  return result;
}

export function proxy_on_log(id: u32): void {
  enter();
  const s = findStream(id);
  if (s !== null) s.onLog();
  leave();
}

export function proxy_on_delete(id: u32): void {
  enter();
  deleteContext(id);
  leave();
}
