// Node ≥ 18: compile the module from the file next to this one, synchronously.
import { readFileSync } from "node:fs";
import { initSync } from "./shotgrid_wasm.js";

initSync({ module: new WebAssembly.Module(readFileSync(new URL("./shotgrid_wasm_bg.wasm", import.meta.url))) });

export { ShotGrid, ShotGridError } from "./api.js";
export { verifyWebhook, parseActionMenuItem } from "./extras.js";
