// The built package (pkg/node.js) in Node against the emulator.
import { test } from "node:test";
import { ShotGrid, ShotGridError } from "../../../pkg/node.js";
import { cases, envFrom } from "../scenario.mjs";

const env = envFrom(process.env);
for (const [name, fn] of cases) {
  test(name, () => fn({ ShotGrid, ShotGridError, env }));
}
