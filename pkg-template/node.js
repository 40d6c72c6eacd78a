// Node ≥ 18: compile the module from the file next to this one, synchronously.
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { initSync } from "./shotgrid_wasm.js";
import { useNodeWebCrypto } from "./extras.js";

initSync({ module: new WebAssembly.Module(readFileSync(new URL("./shotgrid_wasm_bg.wasm", import.meta.url))) });

// verifyWebhook uses WebCrypto: Node 18 has it only as `node:crypto`'s `webcrypto`.
useNodeWebCrypto(webcrypto);

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
