// Runs the scenario inside workerd with the package's workerd entry point.
import { ShotGrid, ShotGridError } from "../../../pkg/workerd.js";
import { cases as slice, runAll, envFrom } from "../scenario.mjs";
import { cases as readwrite } from "../readwrite.mjs";

export default {
  async fetch(_request, bindings) {
    const results = await runAll([...slice, ...readwrite], { ShotGrid, ShotGridError, env: envFrom(bindings) });
    return Response.json(results);
  },
};
