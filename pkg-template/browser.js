// Browsers and bundlers: fetch and instantiate the module next to this file once, at
// import time (top-level await), so no init call is needed.
import init from "./shotgrid_wasm.js";

await init({ module_or_path: new URL("./shotgrid_wasm_bg.wasm", import.meta.url) });

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
