// Cancellation and timeouts through the built package (pkg/node.js) against the emulator.
import { test } from "node:test";
import { ShotGrid, ShotGridError } from "../../../pkg/node.js";
import { envFrom } from "../scenario.mjs";
import { cases } from "../reliability.mjs";

const env = envFrom(process.env);
for (const [name, fn] of cases) {
  test(name, () => fn({ ShotGrid, ShotGridError, env }));
}
