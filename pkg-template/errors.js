/**
 * The error every shotgrid-wasm call rejects with. Errors are created inside the
 * WebAssembly module as `Error`s named "ShotGridError"; `instanceof ShotGridError`
 * recognises them by that name, so it works across every entry point.
 */
export class ShotGridError extends Error {
  constructor(message, props = {}) {
    super(message);
    this.name = "ShotGridError";
    this.kind = props.kind ?? "http";
    this.status = props.status ?? null;
    this.code = props.code ?? null;
    this.title = props.title ?? message;
    this.detail = props.detail ?? null;
    this.source = props.source ?? null;
    this.requestId = props.requestId ?? null;
    this.retryable = props.retryable ?? false;
    this.maybeApplied = props.maybeApplied ?? false;
    this.retryAfterMs = props.retryAfterMs ?? null;
  }

  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "ShotGridError";
  }
}
