import { InFlight, MAX_IN_FLIGHT } from "../in_flight";
import { LabelSet } from "../../telemetry/request_metrics";

const a = new LabelSet(1, new ArrayBuffer(0), "a;", "s", "a");
const b = new LabelSet(2, new ArrayBuffer(0), "b;", "s", "b");

describe("InFlight", () => {
  it("matches the oldest entry with an id and keeps the order of the others", () => {
    const f = new InFlight();
    for (let i = 0; i < 40; i++) f.add(i % 10, <u64>(100 + i), i % 2 == 0 ? a : b, <u8>i); // grows past 16
    expect(f.size).toBe(40);
    const i = f.indexOf(3);
    expect(i).toBe(3);
    expect(f.startAt(i)).toBe(103);
    f.remove(i);
    expect(f.indexOf(3)).toBe(12); // the next request that reused id 3
    expect(f.startAt(f.indexOf(3))).toBe(113);
    f.remove(0); // the oldest: O(1)
    expect(f.indexOf(0)).toBe(8);
    expect(f.statusAt(0)).toBe(1);
    expect(f.setAt(0) === b).toBe(true);
    expect(f.size).toBe(38);
    while (f.size > 0) f.remove(0);
    expect(f.indexOf(1)).toBe(-1);
    expect(f.add(7, 1, a, 0)).toBe(true);
    expect(f.indexOf(7)).toBe(0);
  });

  it("refuses entries past MAX_IN_FLIGHT", () => {
    const f = new InFlight();
    let all = true;
    for (let i = 0; i < MAX_IN_FLIGHT; i++) all = f.add(i, 0, a, 0) && all;
    expect(all).toBe(true);
    expect(f.add(-1, 0, a, 0)).toBe(false);
    f.remove(MAX_IN_FLIGHT - 1);
    expect(f.add(-1, 0, a, 0)).toBe(true);
    expect(f.indexOf(-1)).toBe(MAX_IN_FLIGHT - 1);
  });

  it("is full at MAX_IN_FLIGHT (the connection then ends the oldest entry)", () => {
    const f = new InFlight();
    for (let i = 0; i < MAX_IN_FLIGHT; i++) f.add(i, 0, a, 0);
    expect(f.full).toBe(true);
    expect(f.idAt(0)).toBe(0);
    f.remove(0);
    expect(f.full).toBe(false);
    expect(f.idAt(0)).toBe(1);
  });

  it("matches an answer that names its method to the oldest entry with its id and method", () => {
    const labels = (method: string): LabelSet => {
      const m = String.UTF8.encode(method);
      const key = new ArrayBuffer(4 + m.byteLength);
      store<u32>(changetype<usize>(key), 0);
      memory.copy(changetype<usize>(key) + 4, changetype<usize>(m), m.byteLength);
      return new LabelSet(0, key, method, "", method);
    };
    const notify = labels("notify");
    const hello = labels("hello");
    const f = new InFlight();
    f.add(0, 0, notify, 0); // a client that sends seqid 0 every time: a oneway sent as CALL, then hello
    f.add(0, 0, hello, 0);
    const name = String.UTF8.encode("hello");
    expect(f.indexOfAnswer(0, changetype<usize>(name), 5, true)).toBe(1);
    expect(f.indexOfAnswer(0, changetype<usize>(name), 5, false)).toBe(0); // no method in the answer (Dubbo)
    const other = String.UTF8.encode("echo");
    expect(f.indexOfAnswer(0, changetype<usize>(other), 4, true)).toBe(0); // no entry of that method: the oldest
    expect(f.indexOfAnswer(9, changetype<usize>(name), 5, true)).toBe(-1);
  });
});
