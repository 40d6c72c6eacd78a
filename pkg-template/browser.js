// Browsers and bundlers: fetch and instantiate the module next to this file once, at
// import time (top-level await), so no init call is needed.
import init, { setDefaultPrefetch } from "./shotgrid_wasm.js";

await init({ module_or_path: new URL("./shotgrid_wasm_bg.wasm", import.meta.url) });
// Reads that do not choose `concurrency` keep up to 6 pages in flight (page 1 alone
// first): HTTP/1.1 gives a page 6 connections per host, more would only queue.
setDefaultPrefetch(6);

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
