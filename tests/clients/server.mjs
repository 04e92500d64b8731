// Start the real `autolearn` binary for the Node client tests: a server on
// an ephemeral port, the shared sandbox artifact and precompile cache.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const bin = process.env.AUTOLEARN_BIN ?? join(root, "target/debug/autolearn");
export const artifact = process.env.AUTOLEARN_ARTIFACT ?? join(root, "target/python-wasm/runtime.wasm");

/** The environment of a server whose data lives in `dataDir`. */
export function serverEnv(dataDir, extra = {}) {
  return { ...process.env, AUTOLEARN_DATA_DIR: dataDir, AUTOLEARN_ARTIFACT: artifact, AUTOLEARN_CACHE_DIR: join(dirname(artifact), "cache"), ...extra };
}

/** Start `autolearn serve`; resolves to {process, url} once it listens. */
export async function startServer(env) {
  const proc = spawn(bin, ["serve", "--addr", "127.0.0.1:0"], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((ok, fail) => {
    let seen = "";
    proc.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/listening on (\S+)/);
      if (m) ok(m[1]);
    });
    proc.on("exit", (code) => fail(new Error(`server exited ${code}`)));
  });
  return { proc, url };
}
