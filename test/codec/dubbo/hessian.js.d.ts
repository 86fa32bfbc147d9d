// Types for the parts of hessian.js (npm, no bundled types) that the Dubbo tests use.
declare module "hessian.js" {
  export class EncoderV2 {
    write(value: unknown): this;
    get(): Buffer;
  }
  export class DecoderV2 {
    constructor(buf: Buffer);
    read(): unknown;
  }
  const hessian: { EncoderV2: typeof EncoderV2; DecoderV2: typeof DecoderV2 };
  export default hessian;
}
