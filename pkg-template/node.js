// Node ≥ 18: compile the module from the file next to this one, synchronously.
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { initSync, setDefaultPrefetch } from "./shotgrid_wasm.js";
import { useNodeWebCrypto } from "./extras.js";

initSync({ module: new WebAssembly.Module(readFileSync(new URL("./shotgrid_wasm_bg.wasm", import.meta.url))) });
// Reads that do not choose `concurrency` keep up to 4 pages in flight (page 1 alone
// first), so the site's work on the next pages overlaps decoding this one.
setDefaultPrefetch(4);

// verifyWebhook uses WebCrypto: Node 18 has it only as `node:crypto`'s `webcrypto`.
useNodeWebCrypto(webcrypto);

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
