// A set of conditions on a request's metadata, all of which must hold (Aeraki's `match.attributes`:
// AND across keys). An empty set matches every request.
import { utf8Of } from "../codec/bytes";
import { Metadata } from "../codec/metadata";
import { StringMatch } from "./string_match";

export class MetadataMatch {
  private keys: Array<ArrayBuffer> = [];
  private conditions: Array<StringMatch> = [];

  add(key: string, condition: StringMatch): MetadataMatch {
    this.keys.push(utf8Of(key));
    this.conditions.push(condition);
    return this;
  }

  get isEmpty(): bool { return this.keys.length == 0; }

  /** Appends the keys this match looks up to `into`. */
  collectKeys(into: Array<ArrayBuffer>): void {
    for (let i = 0; i < this.keys.length; i++) into.push(unchecked(this.keys[i]));
  }

  matches(md: Metadata): bool {
    for (let i = 0; i < this.keys.length; i++) {
      const at = md.indexOf(unchecked(this.keys[i]));
      if (at < 0) return false;
      if (!unchecked(this.conditions[i]).matches(md.valuePtrAt(at), md.valueLenAt(at))) return false;
    }
    return true;
  }
}
