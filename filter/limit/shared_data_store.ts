// The CasStore of a running proxy: Envoy's shared data, process-wide across worker VMs with the same
// vm_id (docs/platform.md "Shared state"). Keys must carry Meltemi's prefix: every WasmPlugin on a proxy
// shares one namespace.
import { WasmResult, getSharedDataUtf8, hostBytes, setSharedDataUtf8, sharedCas } from "../abi/host";
import { BUCKET_STATE_BYTES, CasStore } from "./cas_store";

export class SharedDataStore extends CasStore {
  read(key: ArrayBuffer, into: usize, size: u32 = BUCKET_STATE_BYTES): i64 {
    if (getSharedDataUtf8(key) != WasmResult.Ok) return -1;
    const ok = hostBytes.len == size;
    if (ok) memory.copy(into, hostBytes.ptr, size);
    hostBytes.release();
    // A record of another size is not ours to trust: overwrite it as if absent (CAS 0).
    return ok ? <i64>sharedCas : -1;
  }

  write(key: ArrayBuffer, from: usize, cas: u32, size: u32 = BUCKET_STATE_BYTES): bool {
    return setSharedDataUtf8(key, from, size, cas) == WasmResult.Ok;
  }
}
