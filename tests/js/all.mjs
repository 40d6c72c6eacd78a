// Every end-to-end case set, in order. The workerd and Chromium runners run all of
// them; the Node suite registers each file's cases with node:test.
import { cases as slice } from "./scenario.mjs";
import { cases as readwrite } from "./readwrite.mjs";
import { cases as upload } from "./upload.mjs";
import { cases as capabilities } from "./capabilities.mjs";
import { cases as reliability } from "./reliability.mjs";
import { cases as extras } from "./extras.mjs";

export const all = [...slice, ...readwrite, ...upload, ...capabilities, ...reliability, ...extras];
