// The IDL of the Thrift peers that Meltemi's Thrift codec is tested against (test/codec/thrift*.test.ts).
// Compiled at test time by Debian's thrift-compiler (scripts/provision/thrift.sh) with --gen js:node.
namespace js meltemi.interop

// Exercises every wire type, nesting and containers, so that the codec's struct skipping (the end of
// an unframed message) walks all of them.
struct Item {
  1: i32 id
  2: string name
  3: list<map<string, list<i64>>> tags
  4: optional Item child
  5: set<double> ratios
  6: binary blob
  7: bool flag
  8: i8 small
  9: i16 medium
  10: map<i32, Item> children
  11: list<bool> bits
  12: i64 stamp
  13: map<string, bool> switches
  14: set<string> labels
  15: double score
}

exception NotFound {
  1: string message
}

service Greeter {
  string hello(1: string name)
  Item echo(1: Item item) throws (1: NotFound notFound)
  oneway void notify(1: string note)
  // The handler fails with an undeclared error: the server answers with a TApplicationException.
  string boom(1: string why)
}

service Calculator {
  i32 add(1: i32 a, 2: i32 b)
}
