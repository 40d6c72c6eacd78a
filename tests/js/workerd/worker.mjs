// Runs the scenario inside workerd with the package's workerd entry point.
import { ShotGrid, ShotGridError } from "../../../pkg/workerd.js";
import { runAll, envFrom } from "../scenario.mjs";

export default {
  async fetch(_request, bindings) {
    const results = await runAll({ ShotGrid, ShotGridError, env: envFrom(bindings) });
    return Response.json(results);
  },
};
