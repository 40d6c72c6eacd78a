// Benchmark cases 2–4 inside workerd: `GET /?case=overhead|decode|pagination` runs one
// case of ../cases.mjs with the package's workerd entry and answers its timings as JSON.
import { ShotGrid } from "../../pkg/workerd.js";
import { callOverhead, decode, pagination } from "../cases.mjs";

export default {
  async fetch(req, env) {
    const ctx = { ShotGrid, env: { url: env.SG_EMULATOR_URL, clientId: env.SG_TEST_CLIENT_ID, clientSecret: env.SG_TEST_CLIENT_SECRET }, fetch };
    const which = new URL(req.url).searchParams.get("case");
    try {
      if (which === "overhead") return Response.json(await callOverhead(ctx, 2000));
      if (which === "decode") return Response.json(await decode(ctx));
      if (which === "pagination") return Response.json(await pagination(ctx, 8));
      return new Response(`unknown case ${which}`, { status: 400 });
    } catch (err) {
      return new Response(String(err?.stack ?? err), { status: 500 });
    }
  },
};
