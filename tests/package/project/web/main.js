// A user's page, built by Vite: imports the installed package by name.
import { scenario, webCryptoHmac } from "../scenario.js";

const env = JSON.parse(new URLSearchParams(location.search).get("env"));
scenario(env, webCryptoHmac).then(
  (results) => {
    window.__results = results;
    document.getElementById("out").textContent = JSON.stringify(results, null, 2);
  },
  (e) => {
    window.__results = [{ name: "page", ok: false, error: String(e) }];
  },
);
