// Walking past a Thrift struct without decoding it: how the end of an unframed message is found
// (the same walk as TProtocolUtil::skip in lib/cpp, with a depth bound instead of recursion limits
// from the heap). Every element takes at least one byte, so a walk is bounded by the bytes at hand.
import { DecodeError } from "../codec";
import { ThriftReader } from "./reader";
import { CType, Protocol, TType } from "./wire";

/**
 * Where the last field of the message body (depth 1) that was skipped whole ends: a walk that ran out
 * of bytes can start again there once more bytes came (the body's fields need no other state).
 */
export let bodyFieldsEnd: u32 = 0;

/** Skips the struct at r.pos. `depth` counts the struct itself (the message body is depth 1). */
export function skipStruct(r: ThriftReader, protocol: Protocol, depth: u32, maxDepth: u32): void {
  bodyFieldsEnd = r.pos;
  if (protocol == Protocol.Compact) skipCompact(r, CType.STRUCT, depth, maxDepth);
  else skipBinary(r, TType.STRUCT, depth, maxDepth);
}

function tooDeep(r: ThriftReader, depth: u32, maxDepth: u32): bool {
  if (depth <= maxDepth) return false;
  r.fail(DecodeError.TooDeep, "struct nesting deeper than the limit");
  return true;
}

/** Bytes of a fixed-size binary type, 0 for variable-size types, -1 for an unknown type. */
function binaryFixedSize(type: u32): i32 {
  switch (type) {
    case TType.BOOL: case TType.BYTE: return 1;
    case TType.I16: return 2;
    case TType.I32: return 4;
    case TType.DOUBLE: case TType.I64: return 8;
    case TType.UUID: return 16;
    case TType.STRING: case TType.STRUCT: case TType.MAP: case TType.SET: case TType.LIST: return 0;
    default: return -1;
  }
}

function skipBinary(r: ThriftReader, type: u32, depth: u32, maxDepth: u32): void {
  const fixed = binaryFixedSize(type);
  if (fixed > 0) { r.skipBytes(<u64>fixed); return; }
  if (fixed < 0) { r.fail(DecodeError.Malformed, "unknown binary field type"); return; }
  switch (type) {
    case TType.STRING: {
      const len = r.sizeBE();
      if (r.ok) r.skipBytes(len);
      return;
    }
    case TType.STRUCT: {
      if (tooDeep(r, depth, maxDepth)) return;
      while (r.ok) {
        const fieldType = r.u8();
        if (!r.ok || fieldType == TType.STOP) return;
        r.skipBytes(2); // field id
        skipBinary(r, fieldType, depth + 1, maxDepth);
        if (depth == 1 && r.ok) bodyFieldsEnd = r.pos;
      }
      return;
    }
    case TType.MAP: {
      if (tooDeep(r, depth, maxDepth)) return;
      const keyType = r.u8();
      const valueType = r.u8();
      const size = r.sizeBE();
      skipBinaryElements(r, keyType, valueType, size, depth, maxDepth);
      return;
    }
    default: { // SET, LIST
      if (tooDeep(r, depth, maxDepth)) return;
      const elemType = r.u8();
      const size = r.sizeBE();
      skipBinaryElements(r, elemType, TType.STOP, size, depth, maxDepth);
    }
  }
}

/** Skips `size` elements (key/value pairs when valueType is not STOP). */
function skipBinaryElements(r: ThriftReader, keyType: u32, valueType: u32, size: u32, depth: u32, maxDepth: u32): void {
  if (!r.ok || size == 0) return;
  const isMap = valueType != TType.STOP;
  const keySize = binaryFixedSize(keyType);
  const valueSize = isMap ? binaryFixedSize(valueType) : 0;
  if (keySize < 0 || valueSize < 0 || keyType == TType.STOP) { r.fail(DecodeError.Malformed, "unknown binary element type"); return; }
  if (keySize > 0 && (!isMap || valueSize > 0)) {
    r.skipBytes(<u64>size * <u64>(keySize + valueSize));
    return;
  }
  for (let i: u32 = 0; i < size && r.ok; i++) {
    skipBinary(r, keyType, depth + 1, maxDepth);
    if (isMap) skipBinary(r, valueType, depth + 1, maxDepth);
  }
}

/** Bytes of a fixed-size compact type inside a collection, 0 for variable-size, -1 for unknown. */
function compactFixedSize(type: u32): i32 {
  switch (type) {
    // In a collection a bool is one byte; as a field its value is the field type itself.
    case CType.BOOLEAN_TRUE: case CType.BOOLEAN_FALSE: case CType.BYTE: return 1;
    case CType.DOUBLE: return 8;
    case CType.UUID: return 16;
    case CType.I16: case CType.I32: case CType.I64: case CType.BINARY:
    case CType.LIST: case CType.SET: case CType.MAP: case CType.STRUCT: return 0;
    default: return -1;
  }
}

function skipCompact(r: ThriftReader, type: u32, depth: u32, maxDepth: u32): void {
  const fixed = compactFixedSize(type);
  if (fixed > 0) { r.skipBytes(<u64>fixed); return; }
  if (fixed < 0) { r.fail(DecodeError.Malformed, "unknown compact field type"); return; }
  switch (type) {
    case CType.I16: r.varint(3); return;
    case CType.I32: r.varint(5); return;
    case CType.I64: r.varint(10); return;
    case CType.BINARY: {
      const len = r.size32();
      if (r.ok) r.skipBytes(len);
      return;
    }
    case CType.STRUCT: {
      if (tooDeep(r, depth, maxDepth)) return;
      while (r.ok) {
        const header = r.u8();
        if (!r.ok || header == CType.STOP) return;
        const fieldType = header & 0x0f;
        if ((header >> 4) == 0) r.varint(3); // no id delta: a zigzag i16 field id follows
        // A bool field carries its value in the type nibble.
        if (fieldType != CType.BOOLEAN_TRUE && fieldType != CType.BOOLEAN_FALSE) skipCompact(r, fieldType, depth + 1, maxDepth);
        if (depth == 1 && r.ok) bodyFieldsEnd = r.pos;
      }
      return;
    }
    case CType.MAP: {
      if (tooDeep(r, depth, maxDepth)) return;
      const size = r.size32();
      if (!r.ok || size == 0) return; // an empty map has no key/value type byte
      const types = r.u8();
      skipCompactElements(r, types >> 4, types & 0x0f, size, depth, maxDepth);
      return;
    }
    default: { // SET, LIST: size in the high nibble, or 15 and a varint32
      if (tooDeep(r, depth, maxDepth)) return;
      const header = r.u8();
      let size = header >> 4;
      if (r.ok && size == 15) size = r.size32();
      skipCompactElements(r, header & 0x0f, CType.STOP, size, depth, maxDepth);
    }
  }
}

function skipCompactElements(r: ThriftReader, keyType: u32, valueType: u32, size: u32, depth: u32, maxDepth: u32): void {
  if (!r.ok || size == 0) return;
  const isMap = valueType != CType.STOP;
  const keySize = compactFixedSize(keyType);
  const valueSize = isMap ? compactFixedSize(valueType) : 0;
  if (keySize < 0 || valueSize < 0 || keyType == CType.STOP) { r.fail(DecodeError.Malformed, "unknown compact element type"); return; }
  if (keySize > 0 && (!isMap || valueSize > 0)) {
    r.skipBytes(<u64>size * <u64>(keySize + valueSize));
    return;
  }
  for (let i: u32 = 0; i < size && r.ok; i++) {
    skipCompact(r, keyType, depth + 1, maxDepth);
    if (isMap) skipCompact(r, valueType, depth + 1, maxDepth);
  }
}
