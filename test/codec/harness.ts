// Loads test/codec/harness (the filter's codecs compiled with asc's ESM bindings) for Node tests.
// Build: `npm run build:harness` (scripts/build.sh does it) -> build/codec-harness.{wasm,js}.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Frame {
  kind: "request" | "oneway" | "response" | "error" | "heartbeat";
  requestId: string;
  frameLength: number;
  twoWay: boolean;
  metadata: Record<string, string>;
}
export interface DecodeResult { frames: Frame[]; error: string; pending: number }
export interface Limits { maxFrameBytes?: number; maxDepth?: number; maxEntries?: number; maxValueBytes?: number }
export enum ErrorKind { OverLimit = 0, Unauthorized = 1, FaultAbort = 2, NoRoute = 3, BadRequest = 4 }

interface Exports {
  decodeStream(p: string, d: Uint8Array, s: Int32Array, a: number, b: number, c: number, e: number, answers: boolean): string;
  encodeError(p: string, r: Uint8Array, k: number, m: string): Uint8Array;
  encodeMutated(p: string, r: Uint8Array, k: string[], v: string[]): Uint8Array;
  heartbeatReply(p: string, r: Uint8Array): Uint8Array;
  probeFor(p: string, r: Uint8Array): Uint8Array;
  codecManifest(): string;
}

let loaded: Promise<Exports> | undefined;
function harness(): Promise<Exports> {
  loaded ??= import(pathToFileURL(path.join(root, "build/codec-harness.js")).href) as Promise<Exports>;
  return loaded;
}

/**
 * Decodes `data` fed in pieces cut at `splits` (ascending byte offsets). `answers`: the bytes come from
 * a server (the codec is told the direction, Codec.decoding; only tRPC needs it).
 */
export async function decode(protocol: string, data: Uint8Array, splits: number[] = [], limits: Limits = {}, answers = false): Promise<DecodeResult> {
  const h = await harness();
  const json = h.decodeStream(protocol, data, Int32Array.from(splits), limits.maxFrameBytes ?? 0,
    limits.maxDepth ?? 0, limits.maxEntries ?? 0, limits.maxValueBytes ?? 0, answers);
  return JSON.parse(json) as DecodeResult;
}

export async function encodeError(protocol: string, request: Uint8Array, kind: ErrorKind, message: string): Promise<Buffer> {
  return Buffer.from((await harness()).encodeError(protocol, request, kind, message));
}

export async function encodeMutated(protocol: string, request: Uint8Array, mutation: Record<string, string>): Promise<Buffer> {
  const keys = Object.keys(mutation);
  return Buffer.from((await harness()).encodeMutated(protocol, request, keys, keys.map((k) => mutation[k])));
}

export async function heartbeatReply(protocol: string, request: Uint8Array): Promise<Buffer> {
  return Buffer.from((await harness()).heartbeatReply(protocol, request));
}

/** The codec's probe (Codec.probe) for the request frame `request`; empty when the protocol has none. */
export async function probeFor(protocol: string, request: Uint8Array): Promise<Buffer> {
  return Buffer.from((await harness()).probeFor(protocol, request));
}

/** The codec manifest as the built codecs write it (test/codec/harness/index.ts codecManifest). */
export async function codecManifest(): Promise<unknown> {
  return JSON.parse((await harness()).codecManifest());
}
