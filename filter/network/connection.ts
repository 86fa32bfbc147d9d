// One downstream connection through the network filter.
//
// Without a protocol in the configuration it passes bytes unchanged and counts them. With one, it cuts
// both directions into frames with the protocol's codec and, for every request:
// - decides (decision.ts: authorization -> rate limit -> fault -> route);
// - forwards it, with the route's request mutation applied (and its response mutation to the answer);
// - or rejects it: a one-way request is dropped; a two-way one is replaced upstream by a probe (a
//   request every peer answers with the same id, Codec.encodeProbe), and the probe's answer is
//   rewritten on its way back into the protocol's error reply. Envoy gives a network filter no call to
//   write to the client on its own (docs/platform.md), so the reply rides on the answer. Other requests on
//   the connection are unaffected.
// In perConnection mode the first request also picks the cluster of the whole connection
// (upstream.ts): the connection is paused until that request is complete.
//
// Buffers: each callback reads what Envoy holds, moves it into a FrameStream, and replaces Envoy's
// buffer (prefix replacement (0, length), which Envoy allows) with the complete frames it decided on. An
// incomplete frame stays in the FrameStream until the rest arrives.
import { StreamContext } from "../abi/context";
import {
  BufferType, FilterStatus, LogLevel, StreamType, closeStream, hostBytes, log, logEnabled, nowNanos, readBuffer, writeBuffer,
} from "../abi/host";
import { ByteWriter } from "../codec/bytes";
import { Codec, DecodeStatus, Mutation, decodeErrorName, errorKindName } from "../codec/codec";
import { Metadata, MessageKind } from "../codec/metadata";
import { createCodec } from "../codec/registry";
import { FrameStream } from "../codec/stream";
import { FilterConfig, RoutingMode } from "../config/config";
import { SharedDataStore } from "../limit/shared_data_store";
import { Caller } from "../policy/authorization";
import { Random } from "../route/random";
import { Destination } from "../route/route_table";
import { count, countDecodeError, countRejection, metrics, noteMemory } from "../telemetry/metrics";
import { LabelSet, STATUS_ERROR, STATUS_FROM_RESPONSE, STATUS_OK, STATUS_ONEWAY, STATUS_UNKNOWN, rejectedStatus, statusName } from "../telemetry/request_metrics";
import { AccessLogEntry, AccessLogFormat, formatEntry } from "../telemetry/access_log";
import { MeltemiRoot } from "../plugin";
import { readCaller } from "./caller";
import { Decision, Verdict, decide } from "./decision";
import { InFlight } from "./in_flight";
import { PendingReplies } from "./pending_replies";
import { setTcpProxyCluster } from "./upstream";

const sharedStore = new SharedDataStore();
let random: Random | null = null;

/**
 * What one callback writes back into Envoy's buffer. One per VM, not per connection: it is filled and
 * handed to Envoy within a single callback, and a VM runs one callback at a time. Per connection, each
 * would keep the size of the largest read it ever saw (Wasm memory never shrinks).
 */
const callbackOut = new ByteWriter();
/** A connection's frame streams keep at most this much capacity between reads (incomplete frames aside). */
const KEEP_BETWEEN_READS: u32 = 64 * 1024;

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
  responses: FrameStream = new FrameStream();
  requestMd: Metadata;
  responseMd: Metadata;
  /** While a delay holds the connection: what Envoy's read buffer holds (already decided), in order. */
  held: ByteWriter = new ByteWriter();
  pending: PendingReplies = new PendingReplies();
  inFlight: InFlight = new InFlight();
  decision: Decision = new Decision();

  constructor(public readonly codec: Codec) {
    const n = <i32>codec.limits.maxMetadataEntries;
    this.requestMd = new Metadata(n);
    this.responseMd = new Metadata(n);
  }

  free(): void {
    this.requests.pending.free();
    this.responses.pending.free();
    this.held.free();
    this.pending.free();
  }
}

export class Connection extends StreamContext {
  private open: bool = false;
  private framing: Framing | null = null;
  private caller: Caller | null = null;
  /** perConnection mode: paused until the first request picks the cluster. */
  private awaitingFirstRequest: bool = false;
  /** Set after a decode error or an undeliverable rejection: bytes pass unchanged until close. */
  private passThrough: bool = false;
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

  onDownstreamData(length: u32, endOfStream: bool): FilterStatus {
    noteMemory();
    const start = this.heldInEnvoy < length ? this.heldInEnvoy : length;
    if (length > start) count(metrics.rxBytes, length - start);
    if (this.framing === null || this.passThrough || length == start) return this.readStatus();
    const f = this.framing as Framing;
    this.clockNs = 0;
    if (!readBuffer(BufferType.DownstreamData, start, length - start)) return this.readStatus();
    f.requests.push(hostBytes.ptr, hostBytes.len);
    hostBytes.release();

    callbackOut.clear();
    while (true) {
      const status = f.requests.next(f.codec, f.requestMd);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) {
        this.decodeFailed(f, "request");
        callbackOut.bytes(f.requests.head, f.requests.buffered);
        f.requests.clear();
        break;
      }
      this.onRequest(f, f.requests.head, f.requestMd);
      f.requests.consume(f.requestMd.frameLength);
    }
    if (endOfStream && f.requests.buffered > 0) {
      // The client is done: an incomplete last frame cannot be decided; it goes on as it is.
      callbackOut.bytes(f.requests.head, f.requests.buffered);
      f.requests.clear();
    }
    if (this.holdUntilNs != 0 && !this.passThrough) {
      // Held by a delay: Envoy keeps the buffer; it must hold the decided bytes, in order.
      f.held.bytes(callbackOut.ptr, callbackOut.length);
      writeBuffer(BufferType.DownstreamData, 0, length, f.held.ptr, f.held.length);
      this.heldInEnvoy = f.held.length;
      this.plugin.holdConnection(this);
      f.requests.trim(KEEP_BETWEEN_READS);
      return FilterStatus.Pause;
    }
    writeBuffer(BufferType.DownstreamData, 0, length, callbackOut.ptr, callbackOut.length);
    f.requests.trim(KEEP_BETWEEN_READS);
    return this.readStatus();
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

  onUpstreamData(length: u32, endOfStream: bool): FilterStatus {
    if (length > 0) count(metrics.txBytes, length);
    if (this.framing === null || this.passThrough || length == 0) return FilterStatus.Continue;
    const f = this.framing as Framing;
    this.clockNs = 0;
    if (!readBuffer(BufferType.UpstreamData, 0, length)) return FilterStatus.Continue;
    f.responses.push(hostBytes.ptr, hostBytes.len);
    hostBytes.release();

    callbackOut.clear();
    while (true) {
      const status = f.responses.next(f.codec, f.responseMd);
      if (status == DecodeStatus.NeedMore) break;
      if (status == DecodeStatus.Invalid) {
        this.decodeFailed(f, "response");
        break;
      }
      const md = f.responseMd;
      const answer = md.kind != MessageKind.Request && md.kind != MessageKind.Oneway;
      const mutation = answer && f.inFlight.size > 0 ? this.finish(f, md) : null;
      const at = answer ? f.pending.indexOf(md.requestId) : -1;
      if (at >= 0) {
        const reply = f.pending.replyAt(at);
        callbackOut.bytes(reply.ptr, reply.length);
        f.pending.remove(at);
      } else if (mutation === null || !f.codec.encodeResponseMutated(f.responses.head, md, mutation, callbackOut)) {
        // No response mutation, or a reply that cannot carry its keys: it goes as it is. Counted when it
        // is a normal answer (a Thrift client without THeader); error answers (a Dubbo error status
        // holds a message only) never carry keys.
        if (mutation !== null && md.kind == MessageKind.Response) count(metrics.responseMutationFailures, 1);
        if (!f.codec.encodeResponseForClient(f.responses.head, md, callbackOut)) callbackOut.bytes(f.responses.head, md.frameLength);
      }
      f.responses.consume(md.frameLength);
    }
    if (this.passThrough || endOfStream) {
      // Nothing more can be decided on these bytes: the client gets them as they are.
      callbackOut.bytes(f.responses.head, f.responses.buffered);
      f.responses.clear();
    }
    writeBuffer(BufferType.UpstreamData, 0, length, callbackOut.ptr, callbackOut.length);
    f.responses.trim(KEEP_BETWEEN_READS);
    return FilterStatus.Continue;
  }

  private now(): u64 {
    if (this.clockNs == 0) this.clockNs = nowNanos();
    return this.clockNs;
  }

  /**
   * Starts timing a two-way request; `status` is decided now for a rejection, else by its answer.
   * `mutation`: the route's response mutation, applied to the answer. Past MAX_IN_FLIGHT requests on
   * one connection an answer is neither timed nor mutated.
   */
  private track(f: Framing, md: Metadata, labels: LabelSet, status: u8, cluster: string, mutation: Mutation | null): void {
    if (!f.inFlight.add(md.requestId, this.now(), labels, status, cluster, mutation)) {
      this.end(labels, status == STATUS_FROM_RESPONSE ? STATUS_UNKNOWN : status, -1, md.requestId, cluster);
    }
  }

  /** A request ended: metrics, and the access log line when enabled. */
  private end(labels: LabelSet, status: u8, durationNs: i64, requestId: i64, cluster: string): void {
    labels.record(status, durationNs);
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
    const i = f.inFlight.indexOf(md.requestId);
    if (i < 0) return null;
    const mutation = f.inFlight.mutationAt(i);
    let status = f.inFlight.statusAt(i);
    if (status == STATUS_FROM_RESPONSE) status = md.kind == MessageKind.Response ? STATUS_OK : STATUS_ERROR;
    const start = f.inFlight.startAt(i);
    const now = this.now();
    this.end(f.inFlight.setAt(i), status, now > start ? <i64>(now - start) : 0, md.requestId, f.inFlight.clusterAt(i));
    f.inFlight.remove(i);
    return mutation;
  }

  private readStatus(): FilterStatus {
    return this.awaitingFirstRequest || this.holdUntilNs != 0 ? FilterStatus.Pause : FilterStatus.Continue;
  }

  private onRequest(f: Framing, ptr: usize, md: Metadata): void {
    if (md.kind != MessageKind.Request && md.kind != MessageKind.Oneway) {
      callbackOut.bytes(ptr, md.frameLength); // heartbeats and the like go on untouched
      return;
    }
    const config = this.plugin.config;
    if (this.caller === null && config.authorizer.policies.length > 0) this.caller = readCaller();
    const caller = this.caller !== null ? this.caller as Caller : NO_CALLER;
    const d = f.decision;
    // The clock is a host call: read it only when a token bucket needs it.
    decide(config, md, caller, sharedStore, config.hasRateLimit ? this.now() : 0, vmRandom(config), d);
    const labels = this.plugin.requestMetrics.labelsFor(md);
    if (d.limiterContended) count(metrics.limiterContended, 1);

    if (this.awaitingFirstRequest) {
      // The first request picks the connection's cluster; a rejected one leaves tcp_proxy's default,
      // which still answers the probe.
      this.awaitingFirstRequest = false;
      if (d.verdict == Verdict.Forward && d.destination !== null) this.pickCluster(d.destination!);
    }

    if (d.verdict == Verdict.Forward) {
      const route = d.route;
      const dest = d.destination;
      let written = false;
      if (config.routingMode == RoutingMode.PerRequest && dest !== null) {
        // The native router behind us forwards on the key we write (docs/design.md, perRequest).
        written = f.codec.encodeRouted(ptr, md, dest.routed, dest.cluster, callbackOut);
        if (!written) count(metrics.routingKeyFailures, 1);
      } else if (route !== null && !route.requestMutation.isEmpty) {
        written = f.codec.encodeMutated(ptr, md, route.requestMutation, callbackOut);
      }
      if (!written) callbackOut.bytes(ptr, md.frameLength);
      if (d.delayMs > 0) {
        // Held from now until the delay is over (with the rest of the connection: see holdUntilNs).
        const until = this.now() + <u64>d.delayMs * 1_000_000;
        if (until > this.holdUntilNs) this.holdUntilNs = until;
        count(metrics.delays, 1);
      }
      const cluster = dest !== null ? dest.cluster : "";
      if (md.kind == MessageKind.Oneway) this.end(labels, STATUS_ONEWAY, -1, md.requestId, cluster);
      else this.track(f, md, labels, STATUS_FROM_RESPONSE, cluster, route !== null && !route.responseMutation.isEmpty ? route.responseMutation : null);
      return;
    }

    countRejection(d.kind);
    if (logEnabled(LogLevel.Debug)) {
      log(LogLevel.Debug, this.plugin.prefix() + "rejected request " + md.requestId.toString() + ": " + errorKindName(d.kind));
    }
    if (md.kind == MessageKind.Oneway) { // no one waits for an answer: drop it
      this.end(labels, rejectedStatus(d.kind), -1, md.requestId, "");
      return;
    }
    this.track(f, md, labels, rejectedStatus(d.kind), "", null);
    const reply = f.pending.add(md.requestId);
    f.codec.encodeError(md, d.kind, d.message, reply);
    const probed = config.routingMode == RoutingMode.PerRequest
      ? f.codec.encodeRoutedProbe(md, d.destination !== null ? d.destination!.cluster : config.probeCluster, callbackOut)
      : f.codec.encodeProbe(md, callbackOut);
    if (!probed) {
      f.pending.remove(f.pending.indexOf(md.requestId));
      log(LogLevel.Warn, this.plugin.prefix() + f.codec.name + " cannot carry a rejection to the client; closing the connection");
      this.stopDeciding();
    }
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

  /** After a decode error or an undeliverable rejection: the stream cannot be trusted; close it. */
  private stopDeciding(): void {
    this.passThrough = true;
    this.awaitingFirstRequest = false;
    closeStream(StreamType.Downstream);
  }

  onDone(): bool {
    this.close();
    return true;
  }

  onDelete(): void {
    this.close();
    if (this.holdUntilNs != 0) {
      this.holdUntilNs = 0;
      this.plugin.forgetConnection(this);
    }
    if (this.framing !== null) {
      (this.framing as Framing).free();
      this.framing = null;
    }
  }

  private close(): void {
    if (!this.open) return;
    this.open = false;
    count(metrics.activeConnections, -1);
  }
}

const NO_CALLER = new Caller();
const accessLogEntry = new AccessLogEntry();
