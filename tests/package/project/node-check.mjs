// A user's Node ESM script: imports the installed package by name.
import { scenario, webCryptoHmac } from "./scenario.js";

const env = { url: process.env.SG_EMULATOR_URL, clientId: process.env.SG_TEST_CLIENT_ID, clientSecret: process.env.SG_TEST_CLIENT_SECRET };
const resolved = import.meta.resolve("shotgrid-wasm");
const results = [{ name: "resolves to the node entry", ok: resolved.endsWith("/node.js"), error: resolved }];
results.push(...(await scenario(env, webCryptoHmac)));
console.log(JSON.stringify(results));
