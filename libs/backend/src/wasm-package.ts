// The @tensorflow/tfjs-backend-wasm module, imported on demand (only a process that runs wasm loads it). Not a
// runnable file; tested by wasm-package.test.ts and by every wasm test through initBackend.
//
// Why not a plain `await import(...)` at each use: the package is CommonJS, and a bundler that splits code (esbuild
// with --splitting) hands a CommonJS module to import() as its default export alone, so `setWasmPaths` and
// `setThreadsCount` were undefined there and the wasm backend failed to load with no cause in sight.
type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

/** `ns` itself when it has the package's named exports, else its default export when that has them. */
export function wasmNamespace(ns: unknown): WasmPackage {
  const has = (m: unknown): m is WasmPackage => typeof (m as Partial<WasmPackage> | null)?.setWasmPaths === 'function';
  if (has(ns)) return ns;
  const inner = (ns as { default?: unknown } | null)?.default;
  if (has(inner)) return inner;
  throw new Error('@tensorflow/tfjs-backend-wasm has no setWasmPaths export (not tfjs-backend-wasm 4.x?)');
}

/** The package's exports. */
export async function wasmPackage(): Promise<WasmPackage> {
  return wasmNamespace(await import('@tensorflow/tfjs-backend-wasm'));
}
