// Which methods get no answer. A Thrift ONEWAY message says so itself, but Apache Thrift Go clients
// (lib/go/thrift/client.go, v0.17 to v0.25 at least) send oneway methods as CALL (message type 1) and
// never read a reply. So the filter learns it, per (service, method) label set, from the answers:
// - a forwarded CALL that later-sequenced calls overtook (their answers came, its did not) is oneway:
//   Thrift servers answer a connection's calls in order and send nothing for a oneway method;
// - an answer to a forwarded call proves its method two-way, for good (this also undoes a wrong guess,
//   e.g. a slow call overtaken behind a native router that answers out of order).
// Then a rejected call of a oneway method is dropped silently, as a real ONEWAY is (the client would
// never read the error reply, and the next reply it reads would be that one: out of step), and a
// forwarded one is not tracked (it would wait in the in-flight table for an answer that never comes).
// Bounded: the knowledge is a field of the label set (at most metrics.maxLabelSets per plugin); the
// shared overflow set learns nothing.
import { MessageKind, Metadata } from "../codec/metadata";
import { LabelSet } from "../telemetry/request_metrics";

/**
 * Whether a connection's answers come in the order of its calls, so that an overtaken call says
 * something: Thrift servers run one processor loop per connection (Apache Thrift's servers, and
 * the npm/Go/Java ones alike). Dubbo providers answer out of order, and Dubbo marks oneway requests
 * itself (the two-way flag), so nothing is learned there.
 */
export function answersInOrder(codecName: string): bool {
  return codecName == "thrift";
}

export const CALLS_UNKNOWN: u8 = 0;
export const CALLS_ONEWAY: u8 = 1;
export const CALLS_TWO_WAY: u8 = 2;

/** No answer will come for this request (a real ONEWAY, or a CALL of a method learned oneway). */
export function getsNoAnswer(md: Metadata, labels: LabelSet): bool {
  return md.kind == MessageKind.Oneway || labels.calls == CALLS_ONEWAY;
}

/** A request was seen: a real ONEWAY teaches that its method is oneway (unless answers said otherwise). */
export function learnFromRequest(md: Metadata, labels: LabelSet, overflow: LabelSet): void {
  if (md.kind == MessageKind.Oneway && labels.calls == CALLS_UNKNOWN && labels !== overflow) labels.calls = CALLS_ONEWAY;
}

/** A forwarded call of `labels` got its answer: its method is two-way. */
export function learnAnswered(labels: LabelSet, overflow: LabelSet): void {
  if (labels !== overflow) labels.calls = CALLS_TWO_WAY;
}

/**
 * A forwarded call of `labels` was overtaken by the answer to a later one. True when it is now taken
 * for oneway (its entry is to be ended); false when its method is known two-way (it is just slow) or
 * cannot be told apart (overflow).
 */
export function learnOvertaken(labels: LabelSet, overflow: LabelSet): bool {
  if (labels === overflow || labels.calls == CALLS_TWO_WAY) return false;
  labels.calls = CALLS_ONEWAY;
  return true;
}
