#!/usr/bin/env node
// `npx shotgrid-wasm typegen …`: reads a site's schema with the client itself and writes
// a `.d.ts` with one interface per entity type (see typegen.js). Secrets come from the
// environment only, never from the command line.
import { parseArgs } from "node:util";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generate } from "./typegen.js";

const HELP = `Usage: shotgrid-wasm typegen [options]

Reads the schema of a ShotGrid site and writes a TypeScript declaration file with one
interface per entity type, typed field values, and the map that makes
sg.find("Shot", …) return typed records.

Options:
  --site URL            Site root, e.g. https://studio.shotgrid.autodesk.com
                        (default: $SG_SITE)
  --auth KIND[:NAME]    How to log in (default: guessed from the environment):
                          script[:SCRIPT_NAME]  a script key: name from the flag or
                                                $SG_SCRIPT_NAME, key from $SG_SCRIPT_KEY
                          user[:LOGIN]          a user's password: login from the flag or
                                                $SG_LOGIN, password from $SG_PASSWORD
                          session               a web session token from $SG_SESSION_TOKEN
  --secret-env NAME     Read the key, password or session token from this environment
                        variable instead (secrets are never taken from the command line)
  -o, --out FILE        Where to write the declarations (default: shotgrid-entities.d.ts;
                        "-" for standard output)
  --entity-types A,B    Only these entity types (default: every entity type of the site)
  --project-id N        The schema as seen by this project (visibility)
  --no-augment          Do not add the types to shotgrid-wasm's EntityMap; use them with
                        ShotGrid.connect<SiteEntities>(…) instead
  -h, --help            This help

Environment: SG_SITE, SG_SCRIPT_NAME, SG_SCRIPT_KEY, SG_LOGIN, SG_PASSWORD,
SG_SESSION_TOKEN.

Example:
  SG_SCRIPT_KEY=… npx shotgrid-wasm typegen --site https://studio.shotgrid.autodesk.com \\
    --auth script:typegen --out src/shotgrid.d.ts

Exit status: 0 written, 1 the site refused or failed, 2 bad usage.`;

const USAGE = 2;
const FAILED = 1;

class UsageError extends Error {}

/** Turns flags and the environment into generator options; throws UsageError. */
function options(argv, env) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        site: { type: "string" },
        auth: { type: "string" },
        "secret-env": { type: "string" },
        out: { type: "string", short: "o" },
        "entity-types": { type: "string" },
        "project-id": { type: "string" },
        "no-augment": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        // Refused with an explanation below rather than "unknown option".
        "client-secret": { type: "string" },
        "script-key": { type: "string" },
        password: { type: "string" },
        "session-token": { type: "string" },
      },
    }).values;
  } catch (err) {
    throw new UsageError(String(err.message ?? err).replace(/\. To specify a positional.*$/s, "."));
  }
  if (parsed.help) return { help: true };
  for (const flag of ["client-secret", "script-key", "password", "session-token"]) {
    if (parsed[flag] !== undefined) {
      throw new UsageError(
        `--${flag} is not accepted: a secret on the command line ends up in shell history and process lists. ` +
          `Put it in the environment (SG_SCRIPT_KEY, SG_PASSWORD or SG_SESSION_TOKEN), or name the variable with --secret-env.`,
      );
    }
  }

  const site = parsed.site ?? env.SG_SITE;
  if (!site) throw new UsageError("--site is required (or set SG_SITE)");
  let url;
  try {
    url = new URL(site);
  } catch {
    throw new UsageError(`--site must be an absolute http(s) URL, got ${JSON.stringify(site)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`--site must be an http(s) URL, got ${JSON.stringify(site)}`);
  }
  if (url.username || url.password) throw new UsageError("--site must not contain credentials");

  const secretEnv = parsed["secret-env"];
  if (secretEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(secretEnv)) {
    throw new UsageError(`--secret-env must name an environment variable, got ${JSON.stringify(secretEnv)}`);
  }
  const secret = (fallback) => {
    const name = secretEnv ?? fallback;
    const value = env[name];
    if (!value) throw new UsageError(`the secret is missing: set the environment variable ${name}`);
    return value;
  };

  let kind;
  let name;
  if (parsed.auth !== undefined) {
    const at = parsed.auth.indexOf(":");
    kind = at < 0 ? parsed.auth : parsed.auth.slice(0, at);
    name = at < 0 ? undefined : parsed.auth.slice(at + 1);
    if (name === "") throw new UsageError(`--auth ${parsed.auth}: the name after ":" is empty`);
  } else if (env.SG_SCRIPT_KEY || (secretEnv && env.SG_SCRIPT_NAME)) {
    kind = "script";
  } else if (env.SG_PASSWORD) {
    kind = "user";
  } else if (env.SG_SESSION_TOKEN) {
    kind = "session";
  } else {
    throw new UsageError("--auth is required (script[:NAME], user[:LOGIN] or session), or set SG_SCRIPT_KEY, SG_PASSWORD or SG_SESSION_TOKEN");
  }
  let auth;
  switch (kind) {
    case "script": {
      const clientId = name ?? env.SG_SCRIPT_NAME;
      if (!clientId) throw new UsageError("--auth script needs the script's name: --auth script:NAME or SG_SCRIPT_NAME");
      auth = { grant: "client_credentials", clientId, clientSecret: secret("SG_SCRIPT_KEY") };
      break;
    }
    case "user": {
      const login = name ?? env.SG_LOGIN;
      if (!login) throw new UsageError("--auth user needs a login: --auth user:LOGIN or SG_LOGIN");
      auth = { grant: "password", login, password: secret("SG_PASSWORD") };
      break;
    }
    case "session":
      if (name !== undefined) throw new UsageError("--auth session takes no name");
      auth = { grant: "session_token", sessionToken: secret("SG_SESSION_TOKEN") };
      break;
    default:
      throw new UsageError(`--auth must be script[:NAME], user[:LOGIN] or session, got ${JSON.stringify(parsed.auth)}`);
  }

  let entityTypes;
  if (parsed["entity-types"] !== undefined) {
    entityTypes = parsed["entity-types"].split(",").map((s) => s.trim()).filter(Boolean);
    if (entityTypes.length === 0) throw new UsageError("--entity-types needs at least one entity type");
    const bad = entityTypes.find((t) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(t));
    if (bad) throw new UsageError(`--entity-types: ${JSON.stringify(bad)} is not an entity type name`);
  }
  let projectId;
  if (parsed["project-id"] !== undefined) {
    projectId = Number(parsed["project-id"]);
    if (!/^[0-9]+$/.test(parsed["project-id"]) || !Number.isSafeInteger(projectId) || projectId < 1) {
      throw new UsageError(`--project-id must be a positive integer, got ${JSON.stringify(parsed["project-id"])}`);
    }
  }
  const out = parsed.out ?? "shotgrid-entities.d.ts";
  if (out !== "-" && !out.endsWith(".d.ts")) throw new UsageError(`--out must name a .d.ts file (or "-"), got ${JSON.stringify(out)}`);
  return { site: url.href.replace(/\/$/, ""), auth, out, entityTypes, projectId, augment: !parsed["no-augment"] };
}

async function typegen(argv, env) {
  let opts;
  try {
    opts = options(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`shotgrid-wasm typegen: ${err.message}\nRun \`shotgrid-wasm typegen --help\` for the options.\n`);
    return USAGE;
  }
  if (opts.help) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  let result;
  try {
    const { ShotGrid } = await import("./node.js");
    result = await generate(ShotGrid, opts);
  } catch (err) {
    process.stderr.write(`shotgrid-wasm typegen: ${describe(err)}\n`);
    return FAILED;
  }
  if (opts.out === "-") {
    process.stdout.write(result.text);
  } else {
    try {
      makeDirs(path.dirname(path.resolve(opts.out)));
      writeFileSync(opts.out, result.text);
    } catch (err) {
      process.stderr.write(`shotgrid-wasm typegen: cannot write ${opts.out}: ${err.message}\n`);
      return FAILED;
    }
  }
  process.stderr.write(
    `shotgrid-wasm typegen: ${result.entityTypes} entity types, ${result.fields} fields from ${opts.site}` +
      (opts.out === "-" ? "\n" : ` written to ${opts.out}\n`),
  );
  return 0;
}

/**
 * Creates `dir` and its missing parents, one level at a time (Node 20's recursive mkdir
 * never returns for some paths, e.g. under /proc).
 */
function makeDirs(dir) {
  const missing = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) {
    if (path.dirname(d) === d) break;
    missing.push(d);
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

function describe(err) {
  if (err && err.name === "ShotGridError") {
    const where = err.source ? ` (${typeof err.source === "string" ? err.source : JSON.stringify(err.source)})` : "";
    const status = err.status ? ` ${err.status}` : "";
    return `${err.kind}${status}: ${err.detail ?? err.title ?? err.message}${where}`;
  }
  return err?.message ?? String(err);
}

const [command, ...rest] = process.argv.slice(2);
let code;
if (command === "typegen") {
  code = await typegen(rest, process.env);
} else if (command === undefined || command === "-h" || command === "--help" || command === "help") {
  process.stdout.write(`Usage: shotgrid-wasm <command>\n\nCommands:\n  typegen   write TypeScript types from a site's schema (typegen --help)\n`);
  code = command === undefined ? USAGE : 0;
} else {
  process.stderr.write(`shotgrid-wasm: unknown command ${JSON.stringify(command)}; commands: typegen\n`);
  code = USAGE;
}
process.exitCode = code;
