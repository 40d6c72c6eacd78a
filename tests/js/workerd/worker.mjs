// Runs the scenario inside workerd with the package's workerd entry point.
import { ShotGrid, ShotGridError, verifyWebhook, parseActionMenuItem } from "../../../pkg/workerd.js";
import { runAll, envFrom } from "../scenario.mjs";
import { all } from "../all.mjs";

export default {
  async fetch(_request, bindings) {
    const results = await runAll(all, { ShotGrid, ShotGridError, verifyWebhook, parseActionMenuItem, env: envFrom(bindings) });
    return Response.json(results);
  },
};
