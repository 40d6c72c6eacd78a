// Cloudflare Workers / workerd: the bundler hands us a compiled WebAssembly.Module.
import wasmModule from "./shotgrid_wasm_bg.wasm";
import { initSync } from "./shotgrid_wasm.js";

initSync({ module: wasmModule });

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
