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
});
