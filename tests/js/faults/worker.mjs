// Runs the fault cases inside workerd with the package's workerd entry point.
import { ShotGrid, ShotGridError } from "../../../pkg/workerd.js";
import { runFaults } from "../faults.mjs";

export default {
  async fetch(_request, bindings) {
    const env = JSON.parse(bindings.FAULT_ENV);
    return Response.json(await runFaults({ ShotGrid, ShotGridError, env, runtime: "workerd" }));
  },
};
