// The package loads its WebAssembly module with top-level await: build for es2022.
export default {
  build: { target: "es2022" },
};
