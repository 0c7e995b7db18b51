/**
 * PyTorch names and layouts for this lib's networks: what `gan-train export --format torch` writes, and how the
 * PyTorch reference suite (test/torch-reference.test.ts) lines our tensors up with PyTorch's. The matching
 * PyTorch modules are test/torch/gan_torch.py (`GAN.from_config(cfg)` with submodules `g` and `d`), so a
 * state_dict built here loads there with one `load_state_dict`. Not a runnable file.
 *
 * Per layer (ours → PyTorch):
 *   linear weight [in,out] → [out,in]; conv weight [4,4,Ci,Co] → Conv2d [Co,Ci,4,4];
 *   conv-transpose weight [4,4,Co,Ci] → ConvTranspose2d [Ci,Co,4,4]; BatchNorm gamma/beta → weight/bias.
 * A spectrally normalized layer (torch.nn.utils.spectral_norm) has `weight_orig` for its weight and the buffers
 * `weight_u` [out] and `weight_v` [rest] (a conv's v: our (kh,kw,in) order → PyTorch's (in,kh,kw)).
 * Feature order: our activations are NHWC, PyTorch's NCHW, so wherever a flat feature vector meets an image —
 * G's linear output (reshaped to [s0,s0,c0] here, `.view(B,c0,s0,s0)` there) with bn0, and D's linear input
 * (flattened from [s0,s0,C]) — features are permuted from (h,w,c) to (c,h,w) order.
 */
import type { Gan, Layer, Net } from './gan';

/** A tensor in PyTorch layout under its state_dict name. */
export interface TorchTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A state_dict entry: float32 tensors plus BatchNorm's int64 `num_batches_tracked`. */
export type TorchStateEntry =
  | { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }
  | { name: string; dtype: 'I64'; shape: number[]; data: BigInt64Array };

/** p[i] = our index of PyTorch's feature i, for h×w×c features ((h,w,c) order here, (c,h,w) there). */
function hwcToChw(h: number, w: number, c: number): Int32Array {
  const p = new Int32Array(h * w * c);
  for (let ci = 0; ci < c; ci++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[(ci * h + y) * w + x] = (y * w + x) * c + ci;
  return p;
}

const at = (p: Int32Array | null, i: number): number => (p ? p[i] : i);

/** How one of our variables becomes a PyTorch tensor. */
interface Rule {
  torchName: string;
  torchShape: number[];
  convert(src: Float32Array): Float32Array;
}

/** Our [in,out] → PyTorch [out,in], with optional feature permutations on either side. */
function linearWeight(inF: number, outF: number, pin: Int32Array | null, pout: Int32Array | null): (s: Float32Array) => Float32Array {
  return (s) => {
    const t = new Float32Array(inF * outF);
    for (let o = 0; o < outF; o++) {
      const so = at(pout, o);
      for (let i = 0; i < inF; i++) t[o * inF + i] = s[at(pin, i) * outF + so];
    }
    return t;
  };
}

/** Our [kh,kw,A,B] → PyTorch [B,A,kh,kw] (Conv2d: A = in, B = out; ConvTranspose2d: A = out, B = in). */
function convWeight(kh: number, kw: number, a: number, b: number): (s: Float32Array) => Float32Array {
  return (s) => {
    const t = new Float32Array(kh * kw * a * b);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let ai = 0; ai < a; ai++) {
          const src = ((y * kw + x) * a + ai) * b;
          for (let bi = 0; bi < b; bi++) t[((bi * a + ai) * kh + y) * kw + x] = s[src + bi];
        }
      }
    }
    return t;
  };
}

/** p[i] = our index of PyTorch's element i of a conv's flattened [in, kh, kw] (ours: [kh, kw, in]). */
function kernelToTorch(kh: number, kw: number, a: number): Int32Array {
  const p = new Int32Array(kh * kw * a);
  for (let ai = 0; ai < a; ai++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) p[(ai * kh + y) * kw + x] = (y * kw + x) * a + ai;
  return p;
}

function vector(p: Int32Array | null): (s: Float32Array) => Float32Array {
  return (s) => (p ? Float32Array.from(p, (i) => s[i]) : s.slice());
}

/** Per-variable rules for a net, keyed by our variable name; params and buffers alike. */
function rules(net: Net): Map<string, Rule> {
  const nameOf = new Map<object, string>();
  for (const v of [...net.params, ...net.buffers]) nameOf.set(v.variable, v.name);
  const out = new Map<string, Rule>();
  const add = (v: object, torchName: string, torchShape: number[], convert: (s: Float32Array) => Float32Array): void => {
    out.set(nameOf.get(v)!, { torchName, torchShape, convert });
  };
  const stem = (v: object): string => nameOf.get(v)!.replace(/\.[^.]+$/, '');
  // G: features before the reshape to an image are in (h,w,c) order.
  const reshape = net.layers.find((l): l is Extract<Layer, { kind: 'reshape' }> => l.kind === 'reshape');
  let featurePerm: Int32Array | null = reshape ? hwcToChw(reshape.shape[0], reshape.shape[1], reshape.shape[2]) : null;
  let lastChannels = 0;
  let flattened = false;
  for (const l of net.layers) {
    switch (l.kind) {
      case 'linear': {
        const [inF, outF] = l.w.shape;
        // D: the linear after `flatten` reads (h,w,c)-ordered features of a square [s,s,lastChannels] map.
        const s = Math.round(Math.sqrt(inF / Math.max(1, lastChannels)));
        const pin = flattened && lastChannels > 0 ? hwcToChw(s, s, lastChannels) : null;
        const pout = featurePerm;
        add(l.w, `${stem(l.w)}.${l.sn ? 'weight_orig' : 'weight'}`, [outF, inF], linearWeight(inF, outF, pin, pout));
        add(l.b, `${stem(l.b)}.bias`, [outF], vector(pout));
        if (l.sn) {
          add(l.sn.u, `${stem(l.w)}.weight_u`, [outF], vector(pout));
          add(l.sn.v, `${stem(l.w)}.weight_v`, [inF], vector(pin));
        }
        break;
      }
      case 'conv':
      case 'convT': {
        const [kh, kw, a, b] = l.w.shape;
        lastChannels = l.kind === 'conv' ? b : a;
        const sn = l.kind === 'conv' ? l.sn : undefined;
        add(l.w, `${stem(l.w)}.${sn ? 'weight_orig' : 'weight'}`, [b, a, kh, kw], convWeight(kh, kw, a, b));
        add(l.b, `${stem(l.b)}.bias`, [l.b.shape[0]], vector(null));
        if (sn) {
          add(sn.u, `${stem(l.w)}.weight_u`, [b], vector(null));
          add(sn.v, `${stem(l.w)}.weight_v`, [a * kh * kw], vector(kernelToTorch(kh, kw, a)));
        }
        break;
      }
      case 'bn': {
        const n = l.gamma.shape[0];
        const p = featurePerm && featurePerm.length === n ? featurePerm : null;
        add(l.gamma, `${l.name}.weight`, [n], vector(p));
        add(l.beta, `${l.name}.bias`, [n], vector(p));
        add(l.mean, `${l.name}.running_mean`, [n], vector(p));
        add(l.var, `${l.name}.running_var`, [n], vector(p));
        break;
      }
      case 'reshape':
        featurePerm = null;
        break;
      case 'flatten':
        flattened = true;
        break;
      default:
        break;
    }
  }
  return out;
}

function convert(net: Net, vars: Net['params'], flat: Float32Array, what: string): TorchTensor[] {
  const r = rules(net);
  const total = vars.reduce((n, v) => n + v.variable.size, 0);
  if (!(flat instanceof Float32Array) || flat.length !== total) {
    throw new Error(`${what}(${net.role}): expected a Float32Array of ${total} values, got ${flat?.length}`);
  }
  let off = 0;
  return vars.map((v) => {
    const rule = r.get(v.name);
    if (!rule) throw new Error(`${what}: no PyTorch layout rule for '${v.name}'`);
    const src = flat.subarray(off, off + v.variable.size);
    off += v.variable.size;
    return { name: rule.torchName, shape: rule.torchShape, data: rule.convert(src) };
  });
}

/**
 * A vector in `net`'s flat parameter order (weights, gradients, Adam moments: anything shaped like the params) as
 * PyTorch tensors, in the same order.
 */
export function paramsToTorch(net: Net, flat: Float32Array): TorchTensor[] {
  return convert(net, net.params, flat, 'paramsToTorch');
}

/** A vector in `net`'s flat buffer order (BatchNorm running statistics) as PyTorch tensors. */
export function buffersToTorch(net: Net, flat: Float32Array): TorchTensor[] {
  return convert(net, net.buffers, flat, 'buffersToTorch');
}

/**
 * A full PyTorch state_dict for test/torch/gan_torch.py's `GAN` (names `g.*`, `d.*`): both nets' weights and
 * running statistics from the given flat vectors, plus `num_batches_tracked` per BatchNorm (`batches` per net:
 * a training step runs G's BatchNorms once and D's three times).
 */
export function torchStateDict(
  gan: Gan,
  flat: { g: Float32Array; d: Float32Array; gBuffers: Float32Array; dBuffers: Float32Array },
  batches: { g: number; d: number } = { g: 0, d: 0 },
): TorchStateEntry[] {
  const out: TorchStateEntry[] = [];
  for (const [net, w, b, n] of [[gan.g, flat.g, flat.gBuffers, batches.g], [gan.d, flat.d, flat.dBuffers, batches.d]] as const) {
    for (const t of paramsToTorch(net, w)) out.push({ ...t, dtype: 'F32' });
    for (const t of buffersToTorch(net, b)) out.push({ ...t, dtype: 'F32' });
    for (const l of net.layers) {
      if (l.kind === 'bn') out.push({ name: `${l.name}.num_batches_tracked`, dtype: 'I64', shape: [], data: new BigInt64Array([BigInt(n)]) });
    }
  }
  return out;
}
