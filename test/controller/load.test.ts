// Reading YAML inputs: every document's origin is its file and first line, in a file of many documents
// (counted incrementally: a large file must not cost time quadratic in its size).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseText } from "../../controller/render/load";

// A document starts at its `---` marker; the first one, without a marker, at its first content line.
test("each document's origin is file:line of its start", () => {
  const doc = (name: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n`;
  const text = ["# leading comment\n" + doc("a"), doc("b"), "\n\n" + doc("c")].join("---\n");
  const loaded = parseText(text, "in.yaml");
  assert.deepEqual(loaded.map((l) => [l.object.metadata.name, l.origin]), [["a", "in.yaml:2"], ["b", "in.yaml:6"], ["c", "in.yaml:11"]]);
  assert.deepEqual(parseText(doc("first"), "top.yaml").map((l) => l.origin), ["top.yaml:1"], "a document at the very start is on line 1");
});

test("20,000 documents load in linear time (their origins count up)", () => {
  const text = Array.from({ length: 20_000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\n`).join("---\n");
  const loaded = parseText(text, "big.yaml");
  assert.equal(loaded.length, 20_000);
  assert.equal(loaded[19_999]!.origin, `big.yaml:${19_999 * 5}`);
});
