// The Meltemi module: proxy-wasm ABI 0.2.1 exports and the root context factory.
export * from "./abi/exports";
export { proxy_on_http_call_response } from "./abi/http_call";
export * from "./abi/memory";
import "./abi/abort";
import { setRootContextFactory } from "./abi/context";
import { MeltemiRoot } from "./plugin";

setRootContextFactory((id: u32) => new MeltemiRoot(id));
