/**
 * Flat Float32Array views of a network's trainable weights and BatchNorm buffers: the buffers the all-reduce and
 * checkpoints move. The order is the net's `params` / `buffers` order (see index.ts). Not a runnable file.
 */
import { uploadNow } from '@gan/backend';
import { tf } from './tf';
import { assertAlive, type NamedVariable, type Net, type StatUpdate } from './gan';

function count(vars: readonly NamedVariable[]): number {
  let n = 0;
  for (const p of vars) n += p.variable.size;
  return n;
}

/**
 * Host copy of a tensor's values that nothing else aliases. The cpu backend hands out its own storage from
 * dataSync (wasm and webgpu return fresh copies), so only there do we copy.
 */
export function ownedData(t: tf.Tensor): Float32Array {
  const d = t.dataSync() as Float32Array;
  return tf.getBackend() === 'cpu' ? d.slice() : d;
}

/** ownedData without blocking: webgpu cannot read synchronously outside a browser. */
export async function ownedDataAsync(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  return tf.getBackend() === 'cpu' ? d.slice() : d;
}

function readAll(vars: readonly NamedVariable[]): Float32Array {
  if (vars.length === 0) return new Float32Array(0);
  // One concat and one read: a single device→host transfer on GPU backends.
  const t = tf.tidy(() => tf.concat(vars.map((p) => tf.reshape(p.variable, [-1]))));
  try {
    return ownedData(t);
  } finally {
    t.dispose();
  }
}

async function readAllAsync(vars: readonly NamedVariable[]): Promise<Float32Array> {
  if (vars.length === 0) return new Float32Array(0);
  const t = tf.tidy(() => tf.concat(vars.map((p) => tf.reshape(p.variable, [-1]))));
  try {
    return await ownedDataAsync(t);
  } finally {
    t.dispose();
  }
}

/** The data each buffer variable holds now: what keeps a host copy of the buffers honest. */
function bufferIds(net: Net): object[] {
  return net.buffers.map((p) => p.variable.dataId);
}

function hostBuffersCurrent(net: Net): boolean {
  const h = net.hostBuffers;
  if (!h) return false;
  const ids = bufferIds(net);
  return h.ids.length === ids.length && ids.every((id, i) => id === h.ids[i]);
}

/**
 * The buffers of `nets` as they will be once `pending` is applied (flushStats assigns each target its last pending
 * value, so that value's data becomes the buffer's), flattened for a phase's pack, with `adopt` taking the values
 * read back from the pack as each net's host copy: how the G phase, which moves every buffer last in a step,
 * returns the final BatchNorm statistics and spectral-norm vectors inside its own read-back instead of one read per
 * net. The data ids are those the buffers will hold, so a host copy adopted when `pending` was not applied, or after
 * a buffer changed again, never matches and syncHostCopies reads it anew. Call inside tf.tidy; `parts` are
 * [size] tensors, empty when the nets have no buffers.
 */
export function buffersAfter(nets: readonly Net[], pending: readonly StatUpdate[]): { parts: tf.Tensor1D[]; adopt: (values: Float32Array) => void } {
  const next = new Map<tf.Variable, tf.Tensor>();
  for (const u of pending) next.set(u.target, u.value);
  const parts: tf.Tensor1D[] = [];
  const ids = nets.map((net) => net.buffers.map((p) => {
    const t = next.get(p.variable) ?? p.variable;
    parts.push(tf.reshape(t, [-1]));
    return t.dataId;
  }));
  const total = parts.reduce((a, t) => a + t.size, 0);
  return {
    parts,
    adopt(values: Float32Array): void {
      if (values.length !== total) throw new Error(`buffersAfter: expected ${total} values, got ${values.length}`);
      let off = 0;
      nets.forEach((net, i) => {
        const n = count(net.buffers);
        net.hostBuffers = { ids: ids[i], b: values.slice(off, off + n) };
        off += n;
      });
    },
  };
}

/**
 * Brings the host copies of the weights and BatchNorm buffers up to date with asynchronous reads, so that the
 * synchronous getters (getFlatWeights, getFlatBuffers, namedWeights, namedBuffers) answer from the host without a
 * device read: a GPU backend outside a browser (webgpu under Node) cannot read synchronously. Cheap when the
 * copies are current (after adamApply, setFlatWeights/setFlatBuffers).
 */
export async function syncHostCopies(net: Net): Promise<void> {
  assertAlive(net, 'syncHostCopies');
  if (!(net.host && net.host.version === net.version)) {
    const version = net.version;
    const w = await readAllAsync(net.params);
    if (net.version === version) net.host = { version, w };
  }
  if (!hostBuffersCurrent(net)) {
    const ids = bufferIds(net);
    const b = await readAllAsync(net.buffers);
    net.hostBuffers = { ids, b };
  }
}

function writeAll(vars: readonly NamedVariable[], flat: Float32Array, what: string): void {
  const n = count(vars);
  if (!(flat instanceof Float32Array)) throw new Error(`${what}: expected a Float32Array`);
  if (flat.length !== n) throw new Error(`${what}: expected ${n} values, got ${flat.length}`);
  tf.tidy(() => {
    let off = 0;
    // The caller may change `flat` afterwards (the optimisers update their weights in place): wasm copies a new
    // tensor's values into its heap at once, and on webgpu uploadNow writes them to the GPU at once; cpu keeps the
    // array it is given, so it gets a copy.
    const copies = tf.getBackend() !== 'wasm' && tf.getBackend() !== 'webgpu';
    for (const p of vars) {
      const size = p.variable.size;
      const t = tf.tensor(copies ? flat.slice(off, off + size) : flat.subarray(off, off + size), p.variable.shape, 'float32');
      uploadNow(t);
      p.variable.assign(t);
      off += size;
    }
  });
}

/** Number of trainable scalars in the network (the length of its flat weight/gradient vectors). */
export function paramCount(net: Net): number {
  return count(net.params);
}

/** Number of buffer scalars: BatchNorm running stats and spectral-norm vectors (0 for a net with neither). */
export function bufferCount(net: Net): number {
  return count(net.buffers);
}

/** All trainable weights, concatenated in the net's flat order (a fresh array the caller owns). */
export function getFlatWeights(net: Net): Float32Array {
  assertAlive(net, 'getFlatWeights');
  // After an Adam step the host already holds these exact bytes: a memcpy instead of a device→host read.
  if (net.host && net.host.version === net.version) return net.host.w.slice();
  return readAll(net.params);
}

/** Overwrites all trainable weights from a flat vector in the net's flat order (throws on a wrong length). */
export function setFlatWeights(net: Net, flat: Float32Array): void {
  assertAlive(net, 'setFlatWeights');
  writeAll(net.params, flat, `setFlatWeights(${net.role})`);
  net.version++;
}

/** The buffers (BatchNorm running stats, spectral-norm u and v) in build order (see index.ts); length 0 if none. */
export function getFlatBuffers(net: Net): Float32Array {
  assertAlive(net, 'getFlatBuffers');
  if (hostBuffersCurrent(net)) return net.hostBuffers!.b.slice();
  return readAll(net.buffers);
}

/** Overwrites the BatchNorm running stats (throws on a wrong length). */
export function setFlatBuffers(net: Net, flat: Float32Array): void {
  assertAlive(net, 'setFlatBuffers');
  writeAll(net.buffers, flat, `setFlatBuffers(${net.role})`);
  net.hostBuffers = { ids: bufferIds(net), b: flat.slice() };
}

/** One named tensor's host copy. */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

function named(vars: readonly NamedVariable[], flat: Float32Array): NamedWeight[] {
  let off = 0;
  return vars.map((p) => {
    const size = p.variable.size;
    const data = flat.slice(off, off + size);
    off += size;
    return { name: p.name, shape: [...p.variable.shape], data };
  });
}

/** Trainable weights by name, in flat order (e.g. `g.fc.weight`, `g.bn0.gamma`, …). */
export function namedWeights(net: Net): NamedWeight[] {
  assertAlive(net, 'namedWeights');
  return named(net.params, getFlatWeights(net));
}

/** BatchNorm running stats by name, in flat-buffer order (e.g. `g.bn0.running_mean`). */
export function namedBuffers(net: Net): NamedWeight[] {
  assertAlive(net, 'namedBuffers');
  return named(net.buffers, getFlatBuffers(net));
}
