// Calls from the host into the module (proxy-wasm ABI 0.2.1). Each export looks its context up and
// dispatches; an id the module does not know is ignored rather than trapping the VM. Only the root and
// network-filter callbacks are exported: a host skips callbacks a module does not export.
import {
  createContext, deleteContext, hasRoot, hasStream, root, stream,
} from "./context";
import { FilterStatus, PeerType } from "./host";

export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(id: u32, parentId: u32): void {
  createContext(id, parentId);
}

export function proxy_on_vm_start(rootId: u32, size: u32): u32 {
  return !hasRoot(rootId) || root(rootId).onVmStart(size) ? 1 : 0;
}

export function proxy_on_configure(rootId: u32, size: u32): u32 {
  return hasRoot(rootId) && root(rootId).onConfigure(size) ? 1 : 0;
}

export function proxy_on_tick(rootId: u32): void {
  if (hasRoot(rootId)) root(rootId).onTick();
}

export function proxy_on_queue_ready(rootId: u32, token: u32): void {
  if (hasRoot(rootId)) root(rootId).onQueueReady(token);
}

export function proxy_on_foreign_function(rootId: u32, functionId: u32, size: u32): void {
  if (hasRoot(rootId)) root(rootId).onForeignFunction(functionId, size);
}

// gRPC calls are made by root contexts only (abi/grpc.ts): the host delivers their outcome to the root.
export function proxy_on_grpc_receive(rootId: u32, token: u32, size: u32): void {
  if (hasRoot(rootId)) root(rootId).onGrpcReceive(token, size);
}

export function proxy_on_grpc_close(rootId: u32, token: u32, status: u32): void {
  if (hasRoot(rootId)) root(rootId).onGrpcClose(token, status);
}

export function proxy_on_new_connection(id: u32): FilterStatus {
  return hasStream(id) ? stream(id).onNewConnection() : FilterStatus.Continue;
}

export function proxy_on_downstream_data(id: u32, length: u32, endOfStream: u32): FilterStatus {
  return hasStream(id) ? stream(id).onDownstreamData(length, endOfStream != 0) : FilterStatus.Continue;
}

export function proxy_on_upstream_data(id: u32, length: u32, endOfStream: u32): FilterStatus {
  return hasStream(id) ? stream(id).onUpstreamData(length, endOfStream != 0) : FilterStatus.Continue;
}

export function proxy_on_downstream_connection_close(id: u32, peer: u32): void {
  if (hasStream(id)) stream(id).onDownstreamClose(peer as PeerType);
}

export function proxy_on_upstream_connection_close(id: u32, peer: u32): void {
  if (hasStream(id)) stream(id).onUpstreamClose(peer as PeerType);
}

export function proxy_on_done(id: u32): u32 {
  if (hasStream(id)) return stream(id).onDone() ? 1 : 0;
  if (hasRoot(id)) return root(id).onDone() ? 1 : 0;
  return 1;
}

export function proxy_on_log(id: u32): void {
  if (hasStream(id)) stream(id).onLog();
}

export function proxy_on_delete(id: u32): void {
  deleteContext(id);
}
