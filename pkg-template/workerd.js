// Cloudflare Workers / workerd: the bundler hands us a compiled WebAssembly.Module.
import wasmModule from "./shotgrid_wasm_bg.wasm";
import { initSync, setDefaultPrefetch } from "./shotgrid_wasm.js";

initSync({ module: wasmModule });
// Reads that do not choose `concurrency` keep 2 pages in flight (page 1 alone first):
// the next page travels while this one is decoded, and a read that goes past page 1
// sends at most one request past its end (requests count as subrequests here).
setDefaultPrefetch(2);

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
