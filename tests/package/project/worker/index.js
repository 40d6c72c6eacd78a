// A user's Worker: imports the installed package by name; bundled by esbuild/wrangler.
import { scenario, webCryptoHmac } from "../scenario.js";

export default {
  async fetch(request, env) {
    const results = await scenario(
      { url: env.SG_EMULATOR_URL, clientId: env.SG_TEST_CLIENT_ID, clientSecret: env.SG_TEST_CLIENT_SECRET },
      webCryptoHmac,
    );
    return Response.json(results);
  },
};
