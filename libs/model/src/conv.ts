/**
 * The two convolutions of the DCGAN family, with PyTorch's padding semantics, in NHWC:
 *   conv4s2(x, w):  PyTorch Conv2d(k=4, s=2, p=1):          [B,H,W,Ci] → [B,H/2,W/2,Co], w: [4,4,Ci,Co]
 *   convT4s2(x, w): PyTorch ConvTranspose2d(k=4, s=2, p=1): [B,H,W,Ci] → [B,2H,2W,Co],   w: [4,4,Co,Ci]
 * For even H, TF's 'same' padding with k4 s2 pads exactly one row/column on each side, i.e. PyTorch's p=1, and
 * conv2dTranspose is conv2d's adjoint with the same (unflipped) kernel, like PyTorch's ConvTranspose2d; conv.test.ts
 * checks both against naive loops.
 *
 * Both are wrapped in tf.customGrad so the weight gradient works on every backend: where the backend has no
 * usable Conv2DBackpropFilter kernel (cpu's is too slow; or when forced, for tests) the weight gradient is computed
 * "portably" as 16 strided slices of the padded input times the output gradient (one matMul per kernel tap).
 * Not a runnable file.
 */
import { tf } from './tf';

export type ConvGradImpl = 'auto' | 'native' | 'portable';
let impl: ConvGradImpl = 'auto';

/** Test hook: force how conv weight gradients are computed ('auto': native when the backend has the kernel). */
export function setConvGradImpl(v: ConvGradImpl): void {
  impl = v;
}

function useNative(): boolean {
  if (impl !== 'auto') return impl === 'native';
  // tfjs-cpu's Conv2DBackpropFilter is a naive seven-deep loop: at the document's DCGAN (batch 4) a whole step took
  // 426 s with it and 54 s with the 16 matMuls, so cpu takes the portable path too.
  const backend = tf.getBackend();
  return backend !== 'cpu' && tf.getKernel('Conv2DBackpropFilter', backend) != null;
}

const K = 4;
const S = 2;

/**
 * ∂L/∂w for a k4 s2 p1 correlation whose input is `inp` [B,H,W,Ci] and output gradient `dOut` [B,H/2,W/2,Co]:
 * dw[a,b,ci,co] = Σ_{n,i,j} pad(inp)[n, 2i+a, 2j+b, ci] · dOut[n,i,j,co]. Returns [4,4,Ci,Co].
 */
function filterGrad(inp: tf.Tensor4D, dOut: tf.Tensor4D): tf.Tensor4D {
  if (useNative()) {
    // conv2DBackpropFilter is not a public tfjs-core op, so call its kernel directly.
    const attrs = { strides: S, pad: 'same', dataFormat: 'NHWC', filterShape: [K, K, inp.shape[3], dOut.shape[3]] };
    return tf.engine().runKernel('Conv2DBackpropFilter', { x: inp, dy: dOut }, attrs) as tf.Tensor4D;
  }
  const [b, , , ci] = inp.shape;
  const [, ho, wo, co] = dOut.shape;
  const padded = tf.pad(inp, [[0, 0], [1, 1], [1, 1], [0, 0]]);
  const g2 = tf.reshape(dOut, [b * ho * wo, co]);
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < K; a++) {
    for (let c = 0; c < K; c++) {
      const patch = tf.stridedSlice(padded, [0, a, c, 0], [b, a + S * (ho - 1) + 1, c + S * (wo - 1) + 1, ci], [1, S, S, 1]);
      taps.push(tf.matMul(tf.reshape(patch, [b * ho * wo, ci]), g2, true, false));
    }
  }
  return tf.reshape(tf.stack(taps), [K, K, ci, co]);
}

function checkEven(x: tf.Tensor4D, what: string): void {
  if (x.shape[1] % 2 !== 0 || x.shape[2] % 2 !== 0) {
    throw new Error(`${what}: input spatial size ${x.shape[1]}x${x.shape[2]} must be even`);
  }
}

/** PyTorch Conv2d(k4, s2, p1) without bias. x: [B,H,W,Ci] (H, W even), w: [4,4,Ci,Co] → [B,H/2,W/2,Co]. */
export function conv4s2(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  checkEven(x, 'conv4s2');
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4] = args as tf.Tensor4D[];
    const save = args[2] as tf.GradSaveFunc;
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, S, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as tf.Tensor4D[];
        const d = dy as tf.Tensor4D;
        return [tf.conv2dTranspose(d, sw, sx.shape, S, 'same'), filterGrad(sx, d)];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/** PyTorch ConvTranspose2d(k4, s2, p1) without bias. x: [B,H,W,Ci], w: [4,4,Co,Ci] → [B,2H,2W,Co]. */
export function convT4s2(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4] = args as tf.Tensor4D[];
    const save = args[2] as tf.GradSaveFunc;
    save([x4, w4]);
    const [b, h, wd] = x4.shape;
    return {
      value: tf.conv2dTranspose(x4, w4, [b, 2 * h, 2 * wd, w4.shape[2]], S, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as tf.Tensor4D[];
        const d = dy as tf.Tensor4D;
        // convT is the adjoint of conv(·, w) from the output space to the input space, so its input gradient is
        // that conv, and its weight gradient is the conv weight gradient with the roles of input and output swapped.
        return [tf.conv2d(d, sw, S, 'same'), filterGrad(d, sx)];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}
