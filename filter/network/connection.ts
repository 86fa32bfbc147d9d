// One downstream connection through the network filter.
//
// Without a protocol in the configuration it passes bytes unchanged and counts them. With one, it cuts
// both directions into frames with the protocol's codec and, for every request:
// - decides (decision.ts: authorization -> rate limit -> fault -> route);
// - forwards it, with the route's request mutation applied (and its response mutation to the answer);
// - or rejects it: a one-way request is dropped; a two-way one is replaced upstream by a probe (a
//   request every peer answers with the same id, Codec.probe), and the probe's answer is
//   rewritten on its way back into the protocol's error reply. Envoy gives a network filter no call to
//   write to the client on its own (docs/platform.md), so the reply rides on the answer. Other requests on
//   the connection are unaffected.
// - a request frame the codec refuses: the protocol's error for it where the codec can still tell which
//   request it was (Codec.identify; the same probe mechanism), then the connection closes (requestInvalid).
// In perConnection mode the first request also picks the cluster of the whole connection
// (upstream.ts): the connection is paused until that request is complete.
//
// Buffers: each callback reads what Envoy holds and decodes it in place (FrameStream.begin). What goes
// on is built copy-on-write (output.ts): while every frame is unchanged (Codec.encode answers
// Unchanged) it is a span of the read, and when that span is all Envoy holds, Envoy's buffer is left
// alone; otherwise the buffer is replaced (prefix replacement (0, length), which Envoy allows) with the
// decided frames. Only an incomplete frame is copied: it stays in the FrameStream until the rest arrives.
// Every growth of what a connection keeps between reads is admitted by the VM's memory budget first
// (memory_budget.ts); past it, the newest offender is shed. Fail closed: when Envoy's buffer cannot be
// read or replaced, the connection is closed and nothing of that read goes on (a denied request must
// never reach the upstream).
import { collectSoon, owe } from "../abi/gc";
import { freeHostMemory } from "../abi/memory";
import { StreamContext } from "../abi/context";
import {
  BufferType, FilterStatus, LogLevel, StreamType, WasmResult, closeStream, hostBytes, log, logEnabled, nowNanos, readBuffer,
  setEffectiveContext, writeBuffer,
} from "../abi/host";
import { ByteWriter } from "../codec/bytes";
import { Codec, DecodeStatus, Direction, EncodeContext, ErrorKind, Mutation, decodeErrorName, errorKindName } from "../codec/codec";
import { KEY_METHOD, Metadata, MessageKind } from "../codec/metadata";
import { createCodec } from "../codec/registry";
import { FrameStream } from "../codec/stream";
import { FilterConfig, RoutingMode } from "../config/config";
import { SharedDataStore } from "../limit/shared_data_store";
import { Caller } from "../policy/authorization";
import { Random } from "../route/random";
import { Destination } from "../route/route_table";
import { count, countDecodeError, countRejection, countRxBytes, countTxBytes, flushByteCounts, metrics, noteMemory } from "../telemetry/metrics";
import { LabelSet, STATUS_ERROR, batchRequestCounts, flushRequestCounts, STATUS_FROM_RESPONSE, STATUS_OK, STATUS_ONEWAY, STATUS_UNKNOWN, rejectedStatus, statusName } from "../telemetry/request_metrics";
import { AccessLogEntry, AccessLogFormat, formatEntry } from "../telemetry/access_log";
import { OpenSpans } from "../trace/open_spans";
import { withTrace } from "../trace/tracer";
import { MeltemiRoot } from "../plugin";
import { readCaller } from "./caller";
import { Decision, Verdict, decide } from "./decision";
import { InFlight } from "./in_flight";
import { getsNoAnswer, learnAnswered, learnFromRequest, learnOvertaken } from "./oneway";
import { memoryBudget } from "./memory_budget";
import { Output } from "./output";
import { PendingReplies } from "./pending_replies";
import { setTcpProxyCluster } from "./upstream";

const sharedStore = new SharedDataStore();
let random: Random | null = null;

/** What one callback passes on (output.ts); one per VM, see Output. */
const output = new Output(new ByteWriter());
/** The encoding context of the frame at hand (one per VM, filled per frame). */
const encodeContext = new EncodeContext();
/** A connection's frame streams keep at most this much capacity between reads (incomplete frames aside). */
const KEEP_BETWEEN_READS: u32 = 64 * 1024;
/** The first shed of a VM is logged with its reason; later ones are only counted. */
let shedLogged = false;

/** The configuration whose randomSeed last seeded `random` (a new configuration restarts the sequence). */
let randomSeededBy: FilterConfig | null = null;

/** The VM's generator: from the configuration's randomSeed when it has one (so a test can replay its draws), else from the clock. */
function vmRandom(config: FilterConfig): Random {
  if (config.randomSeed != 0 && randomSeededBy !== config) {
    random = new Random(config.randomSeed);
    randomSeededBy = config;
  } else if (random === null) random = new Random(nowNanos());
  return random as Random;
}

/** Per-connection codec state, created only when the configuration names a protocol. */
class Framing {
  requests: FrameStream = new FrameStream();
  responses: FrameStream = new FrameStream(Direction.Response);
  requestMd: Metadata;
  responseMd: Metadata;
  /** While a delay holds the connection: what Envoy's read buffer holds (already decided), in order. */
  held: ByteWriter = new ByteWriter();
  pending: PendingReplies = new PendingReplies();
  inFlight: InFlight = new InFlight();
  decision: Decision = new Decision();
  /** Answers come in call order: an overtaken call is a oneway one (oneway.ts). */
  readonly inOrder: bool;

  constructor(public readonly codec: Codec) {
    this.inOrder = codec.answersInOrder;
    const n = <i32>codec.limits.maxMetadataEntries;
    this.requestMd = new Metadata(n);
    this.responseMd = new Metadata(n);
  }

  free(): void {
    this.requests.free();
    this.responses.free();
    this.held.free();
    this.pending.free();
  }

  /** Bytes kept between reads: what the VM's memory budget counts for this connection. */
  get kept(): u32 {
    return this.requests.pending.capacity + this.responses.pending.capacity + this.held.capacity;
  }
}

/**
 * What a request is counted to leave for the collector (abi/gc.ts). The common path allocates nothing;
 * the paths that do owe for themselves (a rejection below, a span in trace/tracer.ts), and every request
 * owes a little more: a collection follows at least every 64k requests whatever paths they took.
 */
const REQUEST_GARBAGE_BYTES: u64 = 16;
/** A rejected request's reply and message (an authorization denial names its policy: ~200 bytes). */
const REJECTION_GARBAGE_BYTES: u64 = 512;

export class Connection extends StreamContext {
  private open: bool = false;
  private framing: Framing | null = null;
  private caller: Caller | null = null;
  /** perConnection mode: paused until the first request picks the cluster. */
  private awaitingFirstRequest: bool = false;
  /**
   * Set when the filter closed the connection (a decode error, an undeliverable rejection, a failed
   * buffer read or write, shed by the memory budget): no byte of the client goes on any more.
   */
  private closing: bool = false;
  /** Bytes this connection holds in the VM's memory budget, and its slots in the budget's lists (memory_budget.ts). */
  charged: u32 = 0;
  offenderIndex: i32 = -1;
  holderIndex: i32 = -1;
  /** The clock, read at most once per callback (a host call): requests read together arrived together. */
  private clockNs: u64 = 0;
  /**
   * Fault delay: until when the connection is held (ns; 0 = not held). While held, on_downstream_data
   * returns Pause, so Envoy keeps every byte of the connection in its read buffer, decided ones first
   * (`framing.held`), and hands the whole buffer to us again with each new read; the root's tick
   * continues the connection when the time is up (held_connections.ts). Requests that arrive while
   * the connection is held wait too: Envoy can only resume the stream as a whole.
   */
  holdUntilNs: u64 = 0;
  /** Bytes at the front of Envoy's read buffer that are already decided (framing.held). */
  private heldInEnvoy: u32 = 0;
  /**
   * After a malformed request the filter answers (requestInvalid): no client byte goes on any more,
   * answers still come back until the reply to `lastReplyId` is written; then the connection closes.
   */
  private clientCut: bool = false;
  private lastReplyPending: bool = false;
  private lastReplyId: i64 = 0;
  /** Set by the root's tick to close this connection (closeAfterLastReply); see HeldConnections. */
  closeDue: bool = false;
  /** Spans of this connection's traced requests not ended yet (trace/tracer.ts); null until one is traced. */
  private spans: OpenSpans | null = null;

  constructor(id: u32, public readonly plugin: MeltemiRoot) {
    super(id);
  }

  onNewConnection(): FilterStatus {
    this.open = true;
    noteMemory();
    count(metrics.connections, 1);
    count(metrics.activeConnections, 1);
    this.plugin.claimCurrent();
    const config = this.plugin.config;
    if (config.protocol.length == 0) return FilterStatus.Continue;
    this.plugin.learnReporter();
    const codec = createCodec(config.protocol, config.limits);
    if (codec === null) {
      log(LogLevel.Error, this.plugin.prefix() + "no codec for protocol \"" + config.protocol + "\"; passing bytes through");
      return FilterStatus.Continue;
    }
    this.framing = new Framing(codec);
    if (config.routingMode == RoutingMode.PerConnection && config.routes.routes.length > 0) {
      this.awaitingFirstRequest = true;
      return FilterStatus.Pause;
    }
    return FilterStatus.Continue;
  }

  // The request counters of a callback go to Envoy once at its end (request_metrics.ts: batching).
  onDownstreamData(length: u32, endOfStream: bool): FilterStatus {
    batchRequestCounts();
    const status = this.downstreamData(length, endOfStream);
    flushRequestCounts();
    return status;
  }

  onUpstreamData(length: u32, endOfStream: bool): FilterStatus {
    batchRequestCounts();
    const status = this.upstreamData(length, endOfStream);
    flushRequestCounts();
    return status;
  }

  private downstreamData(length: u32, endOfStream: bool): FilterStatus {
    noteMemory();
    // Envoy keeps (and drops at close) what the client still sends.
    if (this.closing || this.clientCut) {
      this.closeIfDue();
      return FilterStatus.Pause;
    }
    const start = this.heldInEnvoy < length ? this.heldInEnvoy : length;
    if (length > start) countRxBytes(length - start);
    if (this.framing === null || length == start) return this.readStatus();
    const f = this.framing as Framing;
    this.clockNs = 0;
    if (!readBuffer(BufferType.DownstreamData, start, length - start)) {
      this.failBuffer("read", "downstream", WasmResult.NotFound);
      return FilterStatus.Pause;
    }
    if (!memoryBudget.admit(this, f.requests.growthFor(hostBytes.len))) {
      hostBytes.release();
      return FilterStatus.Pause;
    }
    // Decoded in place: the read must survive the host calls of deciding (properties, shared data).
    const readLen = hostBytes.len;
    const read = hostBytes.detach();
    f.requests.begin(read, readLen);
    f.codec.lazy = this.plugin.config.decodesLazily;

    output.begin();
    while (true) {
      const status = f.requests.next(f.codec, f.requestMd);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) {
        // Bytes that cannot be decided never go on (the upstream might read them differently); the
        // frames decided before them do, and the client is told why where the protocol can say it.
        this.requestInvalid(f);
        f.requests.clear();
        break;
      }
      if (!this.onRequest(f, f.requests.head, f.requestMd)) {
        // Its lazily decoded part was invalid (Metadata.laterFailed): refused as decode refuses a frame.
        this.requestInvalid(f);
        f.requests.clear();
        break;
      }
      f.requests.consume(f.requestMd.frameLength);
      if (this.closing) { // a rejection that cannot reach the client: nothing after it goes on
        f.requests.clear();
        break;
      }
    }
    if (endOfStream && f.requests.buffered > 0) {
      // The client is done: an incomplete last frame cannot be decided; it goes on as it is.
      output.keep(f.requests.head, f.requests.buffered);
      f.requests.clear();
    }
    // The incomplete frame at the end of the read is copied: admitted first.
    const kept = memoryBudget.admit(this, f.requests.restGrowth);
    if (kept) f.requests.keepRest();
    const status = kept ? this.passDownstream(f, read, readLen, start, length) : FilterStatus.Pause;
    freeHostMemory(read); // after passDownstream: the output may be a span of the read
    return status;
  }

  /**
   * Hands the decided bytes of a read to Envoy: nothing to do when they are exactly what its buffer
   * holds (every frame unchanged and complete), else a replacement of its whole buffer.
   */
  private passDownstream(f: Framing, read: usize, readLen: u32, start: u32, length: u32): FilterStatus {
    if (this.holdUntilNs != 0 && !this.closing) {
      // Held by a delay: Envoy keeps the buffer; it must hold the decided bytes, in order.
      if (!memoryBudget.admit(this, f.held.growthFor(output.length))) return FilterStatus.Pause;
      f.held.bytes(output.ptr, output.length);
      const r = writeBuffer(BufferType.DownstreamData, 0, length, f.held.ptr, f.held.length);
      if (r != WasmResult.Ok) {
        this.failBuffer("write", "downstream", r);
        return FilterStatus.Pause;
      }
      this.heldInEnvoy = f.held.length;
      this.plugin.holdConnection(this);
      f.requests.trim(KEEP_BETWEEN_READS);
      this.recharge();
      return FilterStatus.Pause;
    }
    if (start != 0 || !output.isExactly(read, readLen)) {
      const r = writeBuffer(BufferType.DownstreamData, 0, length, output.ptr, output.length);
      if (r != WasmResult.Ok) {
        this.failBuffer("write", "downstream", r);
        return FilterStatus.Pause;
      }
    }
    f.requests.trim(KEEP_BETWEEN_READS);
    this.recharge();
    return this.readStatus();
  }

  /** The budget's count follows what the buffers hold after a read (they may have shrunk). */
  private recharge(): void {
    const f = this.framing;
    memoryBudget.set(this, f !== null ? (f as Framing).kept : 0);
  }

  /**
   * Envoy refused to hand over or replace a buffer: what it holds was not decided (or not rewritten),
   * so it must not go on. The connection is closed; the callback returns Pause on the read path.
   */
  private failBuffer(op: string, direction: string, result: WasmResult): void {
    count(metrics.bufferFailures, 1);
    log(LogLevel.Error, this.plugin.prefix() + "could not " + op + " the " + direction + " buffer (" + result.toString() +
      "); closing the connection");
    this.stopDeciding();
  }

  /**
   * Shed by the memory budget (memory_budget.ts): closed, its buffers freed now. `current` is the
   * connection whose callback is running (Envoy acts on the current context unless told otherwise).
   */
  shed(current: Connection): void {
    count(metrics.connectionsShed, 1);
    if (!shedLogged) {
      shedLogged = true;
      log(LogLevel.Warn, this.plugin.prefix() + "Wasm memory budget for incomplete frames (" + memoryBudget.limit.toString() +
        " bytes per VM) reached; closing the newest connections that hold incomplete frames " +
        "(counted in meltemi_connections_shed_total; this is logged once per VM)");
    }
    if (current !== this) setEffectiveContext(this.id);
    this.stopDeciding();
    if (current !== this) setEffectiveContext(current.id);
    if (this.framing !== null) {
      const f = this.framing as Framing;
      f.requests.free();
      f.responses.free();
      f.held.free();
    }
    memoryBudget.set(this, 0);
    // Under memory pressure, garbage between the freed buffers would keep them from coalescing.
    collectSoon();
  }

  /** Called by the root's tick when the delay is over, just before it continues the connection. */
  releaseHold(): void {
    this.holdUntilNs = 0;
    this.heldInEnvoy = 0;
    if (this.framing !== null) {
      const held = (this.framing as Framing).held;
      held.clear();
      held.shrink(KEEP_BETWEEN_READS);
    }
  }

  private upstreamData(length: u32, endOfStream: bool): FilterStatus {
    if (length > 0) countTxBytes(length);
    // A closing connection: the client gets nothing more (Envoy cannot resume a paused write path, and
    // need not: the connection is going away).
    if (this.closing) return FilterStatus.Pause;
    if (this.framing === null || length == 0) return FilterStatus.Continue;
    const f = this.framing as Framing;
    this.clockNs = 0;
    if (!readBuffer(BufferType.UpstreamData, 0, length)) {
      this.failBuffer("read", "upstream", WasmResult.NotFound);
      return FilterStatus.Pause;
    }
    if (!memoryBudget.admit(this, f.responses.growthFor(hostBytes.len))) {
      hostBytes.release();
      return FilterStatus.Pause;
    }
    const readLen = hostBytes.len;
    const read = hostBytes.detach();
    f.responses.begin(read, readLen);
    f.codec.lazy = this.plugin.config.decodesLazily;

    output.begin();
    let lastReplySent = false;
    while (true) {
      const status = f.responses.next(f.codec, f.responseMd);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) {
        // The answers decided so far go to the client, the rest as it is (the connection closes).
        this.decodeFailed(f, "response");
        output.keep(f.responses.head, f.responses.buffered);
        f.responses.clear();
        break;
      }
      const md = f.responseMd;
      const answer = md.kind != MessageKind.Request && md.kind != MessageKind.Oneway;
      const mutation = answer ? this.finish(f, md) : null;
      // A mutation rewrites the attachments: a lazily decoded answer's rest is read (and checked) first,
      // so that an invalid one is refused as a full decode refuses it (a request tracked with a response
      // mutation, answered after the connection followed a configuration that decodes lazily).
      if (mutation !== null) md.complete();
      if (md.laterFailed) { // as a decode error
        this.decodeFailed(f, "response");
        output.keep(f.responses.head, f.responses.buffered);
        f.responses.clear();
        break;
      }
      const at = answer ? f.pending.indexOf(md.requestId) : -1;
      if (at >= 0) {
        const reply = f.pending.replyAt(at);
        output.writer.bytes(reply.ptr, reply.length);
        f.pending.remove(at);
        if (this.lastReplyPending && md.requestId == this.lastReplyId) lastReplySent = true;
      } else {
        const ctx = encodeContext.set(Direction.Response, mutation, null);
        output.encode(f.codec, f.responses.head, md, ctx);
        // A reply that cannot carry its keys goes as it is. Counted when it is a normal answer (a Thrift
        // client without THeader); error answers (a Dubbo error status holds a message only) never carry keys.
        if (ctx.dropped && md.kind == MessageKind.Response) count(metrics.responseMutationFailures, 1);
      }
      f.responses.consume(md.frameLength);
      if (lastReplySent) { f.responses.clear(); break; } // nothing after the last reply reaches the client
    }
    if (endOfStream && !lastReplySent) {
      // Nothing more can be decided on these bytes: the client gets them as they are.
      output.keep(f.responses.head, f.responses.buffered);
      f.responses.clear();
    }
    const kept = memoryBudget.admit(this, f.responses.restGrowth);
    if (kept) f.responses.keepRest();
    let result = FilterStatus.Pause;
    if (kept) {
      const r = output.isExactly(read, readLen) ? WasmResult.Ok
        : writeBuffer(BufferType.UpstreamData, 0, length, output.ptr, output.length);
      if (r != WasmResult.Ok) {
        this.failBuffer("write", "upstream", r);
      } else {
        f.responses.trim(KEEP_BETWEEN_READS);
        this.recharge();
        result = FilterStatus.Continue;
        if (lastReplySent) this.closeAfterLastReply();
      }
    }
    freeHostMemory(read); // after the write: the output may be a span of the read
    return result;
  }

  private now(): u64 {
    if (this.clockNs == 0) this.clockNs = nowNanos();
    return this.clockNs;
  }

  /**
   * Starts timing a two-way request; `status` is decided now for a rejection, else by its answer.
   * `mutation`: the route's response mutation, applied to the answer. Past MAX_IN_FLIGHT requests on
   * one connection the oldest entry is ended unanswered, so that calls that never get answers cannot
   * fill the table (oneway.ts).
   */
  private track(f: Framing, md: Metadata, labels: LabelSet, status: u8, cluster: string, mutation: Mutation | null): void {
    if (f.inFlight.full) this.endEntry(f, 0, STATUS_UNKNOWN);
    if (!f.inFlight.add(md.requestId, this.now(), labels, status, cluster, mutation)) {
      this.end(labels, status == STATUS_FROM_RESPONSE ? STATUS_UNKNOWN : status, -1, md.requestId, cluster);
    }
  }

  /** A request ended: metrics, and the access log line when enabled. */
  private end(labels: LabelSet, status: u8, durationNs: i64, requestId: i64, cluster: string): void {
    labels.record(status, durationNs);
    if (this.spans !== null) this.plugin.tracer.end(this.spans as OpenSpans, requestId, status, durationNs, cluster);
    const format = this.plugin.config.accessLogParsed;
    if (format === null) return;
    const e = accessLogEntry;
    e.protocol = this.plugin.config.protocol;
    e.service = labels.service;
    e.method = labels.method;
    e.requestId = requestId;
    e.status = statusName(status);
    e.durationNs = durationNs;
    e.cluster = cluster;
    e.reason = status >= STATUS_UNKNOWN + 1 ? e.status : "";
    log(LogLevel.Info, formatEntry(format as AccessLogFormat, e));
  }

  /**
   * The answer to a timed request reached us: count it with its status and duration. Returns the
   * response mutation of the request's route, if it has one.
   */
  private finish(f: Framing, md: Metadata): Mutation | null {
    const mi = md.indexOf(KEY_METHOD);
    let i = f.inFlight.indexOfAnswer(md.requestId, mi >= 0 ? md.valuePtrAt(mi) : 0, mi >= 0 ? md.valueLenAt(mi) : 0, mi >= 0);
    const overflow = this.plugin.requestMetrics.overflow;
    if (i < 0) {
      // Its entry was ended already (taken for oneway, or evicted): the answer still proves it two-way.
      if (mi >= 0 && f.inOrder) learnAnswered(this.plugin.requestMetrics.labelsFor(md, f.codec.serviceKey), overflow);
      return null;
    }
    if (f.inFlight.statusAt(i) == STATUS_FROM_RESPONSE) learnAnswered(f.inFlight.setAt(i), overflow);
    // Older forwarded calls still unanswered were overtaken: oneway methods sent as CALL (oneway.ts).
    for (let j = f.inOrder ? i - 1 : -1; j >= 0; j--) {
      if (f.inFlight.statusAt(j) == STATUS_FROM_RESPONSE && learnOvertaken(f.inFlight.setAt(j), overflow)) {
        this.endEntry(f, j, STATUS_ONEWAY);
        i--;
      }
    }
    const mutation = f.inFlight.mutationAt(i);
    let status = f.inFlight.statusAt(i);
    if (status == STATUS_FROM_RESPONSE) status = md.kind == MessageKind.Response ? STATUS_OK : STATUS_ERROR;
    const start = f.inFlight.startAt(i);
    const now = this.now();
    this.end(f.inFlight.setAt(i), status, now > start ? <i64>(now - start) : 0, md.requestId, f.inFlight.clusterAt(i));
    f.inFlight.remove(i);
    return mutation;
  }

  /** Ends in-flight entry i without an answer: `status` unless its status was decided already. */
  private endEntry(f: Framing, i: i32, status: u8): void {
    const decided = f.inFlight.statusAt(i);
    this.end(f.inFlight.setAt(i), decided == STATUS_FROM_RESPONSE ? status : decided, -1, f.inFlight.idAt(i), f.inFlight.clusterAt(i));
    f.inFlight.remove(i);
  }

  private readStatus(): FilterStatus {
    return this.awaitingFirstRequest || this.holdUntilNs != 0 ? FilterStatus.Pause : FilterStatus.Continue;
  }

  /**
   * Decides one request frame and passes it on (or its rejection). False, with nothing passed on, when
   * the part of the frame decoded on demand by the decision turned out invalid (Metadata.laterFailed).
   */
  private onRequest(f: Framing, ptr: usize, md: Metadata): bool {
    if (md.kind != MessageKind.Request && md.kind != MessageKind.Oneway) {
      output.keep(ptr, md.frameLength); // heartbeats and the like go on untouched
      return true;
    }
    owe(REQUEST_GARBAGE_BYTES);
    const config = this.plugin.config;
    if (this.caller === null && config.authorizer.policies.length > 0) this.caller = readCaller();
    const caller = this.caller !== null ? this.caller as Caller : NO_CALLER;
    const d = f.decision;
    // The clock is a host call: read it only when a token bucket needs it.
    decide(config, md, caller, sharedStore, config.hasRateLimit ? this.now() : 0, vmRandom(config), d);
    // Lazy decode (config.decodesLazily): every lookup that may decode the frame's rest is in decide().
    if (md.laterFailed) return false;
    const labels = this.plugin.requestMetrics.labelsFor(md, f.codec.serviceKey);
    learnFromRequest(md, labels, this.plugin.requestMetrics.overflow);
    const noAnswer = getsNoAnswer(md, labels);
    if (d.limiterContended) count(metrics.limiterContended, 1);
    const traceKeys = this.plugin.tracer.enabled ? this.trace(f, md, d, config) : null;

    if (this.awaitingFirstRequest) {
      // The first request picks the connection's cluster; a rejected one leaves tcp_proxy's default,
      // which still answers the probe.
      this.awaitingFirstRequest = false;
      if (d.verdict == Verdict.Forward && d.destination !== null) this.pickCluster(d.destination!);
    }

    if (d.verdict == Verdict.Forward) {
      const route = d.route;
      const dest = d.destination;
      // perRequest: the native router behind us forwards on the routing key the codec writes (docs/design.md).
      const routed = config.routingMode == RoutingMode.PerRequest && dest !== null;
      const base = route !== null ? route.requestMutation : null;
      const mutation = traceKeys !== null ? withTrace(base, traceKeys) : base;
      const ctx = encodeContext.set(Direction.Request, mutation, routed ? dest!.cluster : null);
      output.encode(f.codec, ptr, md, ctx);
      if (ctx.dropped && routed) count(metrics.routingKeyFailures, 1);
      if (d.delayMs > 0) {
        // Held from now until the delay is over (with the rest of the connection: see holdUntilNs).
        const until = this.now() + <u64>d.delayMs * 1_000_000;
        if (until > this.holdUntilNs) this.holdUntilNs = until;
        count(metrics.delays, 1);
      }
      const cluster = dest !== null ? dest.cluster : "";
      if (noAnswer) this.end(labels, STATUS_ONEWAY, -1, md.requestId, cluster);
      else this.track(f, md, labels, STATUS_FROM_RESPONSE, cluster, route !== null && !route.responseMutation.isEmpty ? route.responseMutation : null);
      return true;
    }

    countRejection(d.kind);
    owe(REJECTION_GARBAGE_BYTES);
    if (logEnabled(LogLevel.Debug)) {
      log(LogLevel.Debug, this.plugin.prefix() + "rejected request " + md.requestId.toString() + ": " + errorKindName(d.kind));
    }
    if (noAnswer) { // no one waits for an answer (a oneway call, maybe sent as CALL: oneway.ts): drop it
      this.end(labels, rejectedStatus(d.kind), -1, md.requestId, "");
      return true;
    }
    this.track(f, md, labels, rejectedStatus(d.kind), "", null);
    if (!this.replyViaProbe(f, md, d.kind, d.message, d.destination !== null ? d.destination!.cluster : config.probeCluster)) {
      log(LogLevel.Warn, this.plugin.prefix() + f.codec.name + " cannot carry a rejection to the client; closing the connection");
      this.stopDeciding();
    }
    return true;
  }

  /**
   * Sends the upstream a probe in place of `md` (Codec.probe) and keeps respond()'s reply to put in
   * place of the probe's answer. False when the codec has no probe (nothing written, nothing kept).
   */
  private replyViaProbe(f: Framing, md: Metadata, kind: ErrorKind, message: string, perRequestCluster: string): bool {
    const reply = f.pending.add(md.requestId);
    f.codec.respond(kind, message, md, reply);
    const cluster = this.plugin.config.routingMode == RoutingMode.PerRequest ? perRequestCluster : null;
    if (f.codec.probe(md, cluster, output.writer)) return true;
    f.pending.remove(f.pending.indexOf(md.requestId));
    return false;
  }

  /**
   * A request frame the codec refused: where the codec can still tell which two-way request it was
   * (Codec.identify: a Thrift seqid and name, a Dubbo request id), the client gets the protocol's
   * error for it (Thrift TApplicationException PROTOCOL_ERROR, Dubbo BAD_REQUEST) before the
   * connection closes: a probe goes up in its place, its answer comes back as that error, then the
   * connection closes (closeAfterLastReply). Client bytes stop here either way. Otherwise: closed now.
   */
  private requestInvalid(f: Framing): void {
    const codec = f.codec;
    const md = f.requestMd;
    const detail = decodeErrorName(codec.error) + ": " + codec.errorDetail;
    countDecodeError(codec.error);
    const config = this.plugin.config;
    if (codec.identify(f.requests.head, f.requests.buffered, md) &&
      this.replyViaProbe(f, md, ErrorKind.BadRequest, "meltemi: malformed request (" + detail + ")", config.probeCluster)) {
      log(LogLevel.Warn, this.plugin.prefix() + codec.name + " request " + detail + "; answering request " + md.requestId.toString() +
        " with the protocol's error, then closing the connection");
      this.lastReplyPending = true;
      this.lastReplyId = md.requestId;
      this.clientCut = true;
      this.awaitingFirstRequest = false; // tcp_proxy's default cluster answers the probe
      return;
    }
    log(LogLevel.Warn, this.plugin.prefix() + codec.name + " request " + detail + "; closing the connection");
    this.stopDeciding();
  }

  /** The last reply reached the client's buffer: the connection closes on the root's next tick. */
  private closeAfterLastReply(): void {
    this.lastReplyPending = false;
    this.closing = true;
    // Not from inside this write callback: Envoy's write path has not yet moved these bytes to the
    // socket's buffer, so a close now could drop them; from the tick, FlushWrite sends them first.
    this.plugin.closeSoon(this);
  }

  /**
   * A close due on the root's next tick (closeAfterLastReply), and the client sent more first: the
   * last reply left in an earlier callback, so it is in the socket's buffer and the close's FlushWrite
   * sends it. Closing now, not up to a tick later (Envoy's running 1 s tick is not shortened), makes
   * what the client sent meanwhile fail at once (its connection closes) instead of waiting for a
   * timeout (a Dubbo 3 consumer's, say).
   */
  private closeIfDue(): void {
    if (!this.closeDue) return;
    this.plugin.forgetConnection(this);
    this.closeDue = false;
    closeStream(StreamType.Downstream);
  }

  /**
   * Tracing on: opens the request's span if its trace is sampled; returns the trace keys to forward,
   * or null. The caller's identity is read once per connection (a host call).
   */
  private trace(f: Framing, md: Metadata, d: Decision, config: FilterConfig): Mutation | null {
    if (this.caller === null) this.caller = readCaller();
    if (this.spans === null) this.spans = new OpenSpans();
    const caller = (this.caller as Caller).principal;
    return this.plugin.tracer.begin(f.codec, md, d, vmRandom(config), this.now(), caller, this.spans as OpenSpans);
  }

  private pickCluster(dest: Destination): void {
    const r = setTcpProxyCluster(dest.clusterUtf8);
    if (r != 0) {
      log(LogLevel.Error, this.plugin.prefix() + "could not set the connection's cluster to " + dest.cluster + " (set_envoy_filter_state: " + r.toString() + ")");
    }
  }

  private decodeFailed(f: Framing, direction: string): void {
    countDecodeError(f.codec.error);
    log(LogLevel.Warn, this.plugin.prefix() + f.codec.name + " " + direction + " " + decodeErrorName(f.codec.error) + ": " +
      f.codec.errorDetail + "; closing the connection");
    this.stopDeciding();
  }

  /** After a decode error, an undeliverable rejection or a buffer failure: the stream cannot be trusted; close it. */
  private stopDeciding(): void {
    if (this.closing) return;
    this.closing = true;
    this.awaitingFirstRequest = false;
    closeStream(StreamType.Downstream);
  }

  onDone(): bool {
    this.close();
    return true;
  }

  onDelete(): void {
    this.close();
    if (this.holdUntilNs != 0 || this.closeDue) {
      this.holdUntilNs = 0;
      this.closeDue = false;
      this.plugin.forgetConnection(this);
    }
    if (this.framing !== null) {
      (this.framing as Framing).free();
      this.framing = null;
    }
    memoryBudget.set(this, 0);
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    flushByteCounts(); // before the gauge: a reader that sees it drop sees this connection's bytes
    count(metrics.activeConnections, -1);
  }
}

const NO_CALLER = new Caller();
const accessLogEntry = new AccessLogEntry();
