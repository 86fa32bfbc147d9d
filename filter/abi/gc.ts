// Garbage collection at safe points.
//
// The module is built with AssemblyScript's "minimal" runtime (asconfig.json): TLSF allocator and a
// two-colour mark-and-sweep collector that runs only when asked (`__collect`, std rt/tcms.ts). The
// "incremental" runtime collects by itself during any allocation, so it must find the references held
// in locals: it keeps a shadow stack, and every function that holds a managed reference across a call
// spills it there and checks for overflow on entry. That bookkeeping was ~40% of a request's
// instructions and ~90 KB of the module's code (docs/performance.md, "The runtime").
//
// Without the shadow stack the collector sees only globals and what they reach, so it may run only
// when no managed reference lives in a local: between host callbacks. Every export calls enter() first
// and leave() last; the outermost leave() collects when one is due. Nested callbacks exist: the host
// calls `malloc` in the middle of a host read, and a host call may re-enter the module, so only the
// outermost callback's return is a safe point.
//
// When a collection is due, without knowing how many bytes were allocated (rt/tcms.ts keeps that
// count to itself):
//  - after a callback that grew linear memory: the allocator found no free block, and garbage may be
//    what fills the heap (TLSF doubles memory when it grows, rt/tlsf.ts growMemory, so waiting for the
//    next growth would let garbage double the heap again);
//  - when the garbage owed since the last collection reaches COLLECT_AFTER_BYTES: each source of
//    garbage says what it leaves with owe() (a closed connection, a replaced configuration, a request
//    on a path that allocates); the request path in the common case allocates nothing;
//  - at the root's tick when anything is owed (at least once a second, filter/plugin.ts updateTick).
//  - at once when a connection is shed for memory (network/memory_budget.ts): small garbage left
//    between freed frame buffers would keep them from coalescing, and the next large buffer would grow
//    the heap instead (seen in test/filter/memory-budget.test.ts: 64 MiB with it, 96 without).
// So garbage stays under about COLLECT_AFTER_BYTES plus one callback's allocation, and memory freed
// by closed connections is reused (test/filter/garbage-collection.test.ts; in Envoy,
// test/envoy/memory-attack.test.ts).

/** Estimated garbage at which a collection runs at the next safe point. */
export const COLLECT_AFTER_BYTES: u64 = 1 << 20;

let depth: i32 = 0;
let owed: u64 = 0;
let pagesAfterCollect: i32 = 0;

/** A host callback begins. */
// @ts-ignore: decorator
@inline export function enter(): void {
  depth++;
}

/** A host callback returns: the outermost return is a safe point, where a due collection runs. */
// @ts-ignore: decorator
@inline export function leave(): void {
  if (--depth == 0 && (owed >= COLLECT_AFTER_BYTES || memory.size() != pagesAfterCollect)) collect();
}

/** Records garbage left behind (an estimate in bytes): a collection follows past COLLECT_AFTER_BYTES. */
export function owe(bytes: u64): void {
  owed += bytes;
}

/** Collects at the end of the current callback, whatever is owed (e.g. after a configuration). */
export function collectSoon(): void {
  owed = COLLECT_AFTER_BYTES;
}

/** At the root's tick: collects at its end if anything is owed. */
export function collectIfOwed(): void {
  if (owed > 0) owed = COLLECT_AFTER_BYTES;
}

function collect(): void {
  __collect();
  owed = 0;
  pagesAfterCollect = memory.size();
}
