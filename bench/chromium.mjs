// Runs the cases of bench/cases.mjs inside headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core, never a downloaded browser), against the package's browser
// entry. A tiny static server on 127.0.0.1 serves pkg/ and bench/; the page fetches the
// emulator cross-origin (the emulator allows any origin and caches preflights).
//
// With `tls` ({ certFile }), the emulator is an HTTPS one (`--tls`: HTTP/2 by ALPN, a
// self-signed certificate), as real sites are served: Chromium trusts that one key only
// (`--ignore-certificate-errors-spki-list` with the SHA-256 of the certificate's public
// key, narrower than ignoring every certificate error), and every case checks that its
// requests to the site went over h2: the protocol Chromium's network stack reports for each
// response (DevTools protocol `Network.responseReceived`). The page itself cannot tell:
// PerformanceResourceTiming.nextHopProtocol is empty for a cross-origin site that sends
// no `Timing-Allow-Origin` (ShotGrid does not, nor does the emulator); its start and end
// times are not hidden, and give the timeline of case 4.
import { X509Certificate, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchChromium, serveStatic } from "../tests/js/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo (Chromium's SPKI pin). */
export function spkiPin(pem) {
  const spki = new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/**
 * Starts the server and the browser; `run(name, ...args)` calls `cases[name](ctx, ...args)`
 * in the page (ctx = { ShotGrid, send, env, fetch } of the page) and returns its result.
 * `lastRequests()` lists the requests to the site made by the last `run`, from the page's
 * resource timing: `{ url, start, end }` (ms since the page's time origin).
 * @param {{ url: string, clientId: string, clientSecret: string }} env
 * @param {{ certFile: string } | null} [tls]
 */
/** Cases that send nothing to the site (their `fetch` answers in memory). */
const OFFLINE = new Set(["callCpu"]);

export async function openChromium(env, tls = null) {
  const server = await serveStatic(root, (rel) => rel.startsWith("pkg/") || rel === "bench/cases.mjs", { "/": "<!doctype html><meta charset=utf-8><title>bench</title>" });
  const origin = server.origin;
  const args = tls ? [`--ignore-certificate-errors-spki-list=${spkiPin(readFileSync(tls.certFile, "utf8"))}`] : [];
  let browser;
  try {
    browser = await launchChromium(chromium, { args });
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(origin);
    const version = browser.version();
    let requests = [];
    // The protocol of every response from the site (playwright has the Network domain on
    // already, so listening costs the page nothing).
    const site = new URL(env.url).origin + "/";
    let protocols = [];
    const cdp = await page.context().newCDPSession(page);
    cdp.on("Network.responseReceived", (e) => { if (e.response.url.startsWith(site)) protocols.push(e.response.protocol ?? "(none)"); });
    await cdp.send("Network.enable");
    return {
      runtime: `Chromium ${version}${tls ? " (site over HTTPS/h2)" : ""}`,
      async run(name, ...args) {
        protocols = [];
        const out = await page.evaluate(async ([name, args, env]) => {
          const { ShotGrid } = await import("/pkg/browser.js");
          const { send } = await import("/pkg/send.js");
          const cases = await import("/bench/cases.mjs");
          performance.clearResourceTimings();
          // Every request of a case, 2,000 in case 2 (the buffer holds 250 by default).
          performance.setResourceTimingBufferSize(1_000_000);
          const result = await cases[name]({ ShotGrid, send, env, fetch: globalThis.fetch.bind(globalThis) }, ...args);
          const site = new URL(env.url).origin + "/";
          const requests = performance.getEntriesByType("resource").filter((e) => e.name.startsWith(site))
            .map((e) => ({ url: e.name, start: e.startTime, end: e.responseEnd }));
          return { result, requests };
        }, [name, args, env]);
        if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
        requests = out.requests;
        if (tls) {
          const other = protocols.filter((p) => p !== "h2");
          // `callCpu` answers its reads in memory: it sends nothing to the site.
          if ((!protocols.length && !OFFLINE.has(name)) || other.length) {
            const seen = [...new Set(protocols)].join(", ");
            throw new Error(`${name} in Chromium: ${other.length} of ${protocols.length} responses from the site did not come over h2 (protocols: ${seen || "no responses seen"})`);
          }
        }
        return out.result;
      },
      lastRequests: () => requests,
      async close() {
        await browser.close();
        void server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    void server.close();
    throw err;
  }
}
