// How every suite and benchmark starts Debian's Chromium (../shared/TOOLCHAIN.md):
// playwright-core with /usr/bin/chromium (or $CHROMIUM), never a downloaded browser, and
// the flags this machine needs (no sandbox as root; no background networking, which the
// closed network refuses).

/** Chromium's command-line flags for headless runs here. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
];

/**
 * Launches headless Chromium with playwright-core's `chromium` browser type.
 * @param {import("playwright-core").BrowserType} chromium
 * @param {import("playwright-core").LaunchOptions} [options] merged over the defaults
 */
export function launchChromium(chromium, options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    ...options,
    args: [...CHROMIUM_FLAGS, ...(options.args ?? [])],
  });
}
