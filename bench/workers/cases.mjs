// Runs one case of bench/cases.mjs inside workerd: POST { name, args } → the case's result
// as JSON (500 with the error's text when it throws). Driven by bench/workerd.mjs.
import { ShotGrid } from "../../pkg/workerd.js";
import { send } from "../../pkg/send.js";
import * as cases from "../cases.mjs";

export default {
  async fetch(req, env) {
    try {
      const { name, args } = await req.json();
      const run = cases[name];
      if (typeof run !== "function") return new Response(`no case ${name}`, { status: 400 });
      const ctx = { ShotGrid, send, env: { url: env.SG_EMULATOR_URL, clientId: env.SG_TEST_CLIENT_ID, clientSecret: env.SG_TEST_CLIENT_SECRET }, fetch };
      return Response.json(await run(ctx, ...args));
    } catch (err) {
      return new Response(String(err?.stack ?? err), { status: 500 });
    }
  },
};
