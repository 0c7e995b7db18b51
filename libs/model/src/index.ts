/**
 * Public API of @gan/model: DCGAN/MLP generator and discriminator on raw TF.js core ops, flat views of their
 * weights (the all-reduce payload), the two gradient computations of a GAN step, and PyTorch-semantics Adam and
 * RMSprop.
 * The backend is chosen by the caller (@gan/backend) before buildGan. Not a runnable file.
 *
 * ## Flat order (the contract the all-reduce and checkpoints rely on)
 * Each net's trainable variables, in build order, per layer weight then bias, per BatchNorm gamma then beta;
 * getFlatWeights / gradients / Adam m,v all use it. Layouts are TF's, not PyTorch's (counts are identical):
 * linear weight [in,out], conv weight [4,4,in,out], conv-transpose weight [4,4,out,in], NHWC activations (so
 * flattening before D's linear, and the reshape after G's linear, order features as (h,w,c), not (c,h,w)).
 *
 * DCGAN with k stages (s0 = 4 for imageSize 4·2^k, s0 = 7 for 28 with k = 2), norm 'batch':
 *   G: g.fc.weight [nz, C0·s0²], g.fc.bias, g.bn0.gamma [C0·s0²], g.bn0.beta,
 *      then for i = 1..k: g.deconv{i}.weight, g.deconv{i}.bias, and for i < k: g.bn{i}.gamma, g.bn{i}.beta
 *      (C0 = ngf·2^(k-1); deconv k outputs `channels`, then tanh)
 *   D: for i = 1..k: d.conv{i}.weight, d.conv{i}.bias, and for i ≥ 2: d.bn{i}.gamma, d.bn{i}.beta;
 *      then d.fc.weight [ndf·2^(k-1)·s0², 1], d.fc.bias [1]
 *   norm 'none' drops every bn entry. Buffers (getFlatBuffers), in the same build order: per BN
 *   `<bn>.running_mean` then `<bn>.running_var`; with spectralNorm, per D conv/linear layer (right after its bias)
 *   `<layer>.weight_u` [out] then `<layer>.weight_v` [rest] (spectral-norm.ts).
 * MLP: g.fc1, g.fc2, g.fc3 (weight, bias each); d.fc1, d.fc2, d.fc3. No buffers.
 *
 * PyTorch names and layouts of all of this (the export format): torch-layout.ts.
 *
 * D's forward yields logits; D(x) = sigmoid(logit), and the losses are computed from logits (numerically safe).
 */
export type { ModelConfig, DcganPlan } from './model-config';
export { dcganPlan, validateModelConfig } from './model-config';
export type { Gan, Net, NamedVariable, ActivationObserver } from './gan';
export { buildGan, disposeGan, observeActivations } from './gan';
export type { NamedWeight } from './flat';
export {
  paramCount,
  bufferCount,
  getFlatWeights,
  setFlatWeights,
  getFlatBuffers,
  setFlatBuffers,
  namedWeights,
  namedBuffers,
  syncHostCopies,
} from './flat';
export { conv4s2, convT4s2 } from './conv';
export type { DGradResult, GGradResult } from './steps';
export { GAN_LOSSES, isBceLoss, bceWithLogits, type GanLoss } from './losses';
export { dGradients, dGradientsAsync, gGradients, gGradientsAsync, sampleNoise, noiseData, generate, generateAsync, discriminate, readBuffer, type DGradOptions, type GGradOptions, type ReadBuffer } from './steps';
export type { Adam, AdamOptions, AdamState } from './adam';
export type { TorchTensor, TorchStateEntry } from './torch-layout';
export { paramsToTorch, buffersToTorch, torchStateDict } from './torch-layout';
export { createAdam, adamApply, adamState, loadAdamState } from './adam';
export type { RmsProp, RmsPropOptions, RmsPropState } from './rmsprop';
export { createRmsProp, rmspropApply, rmspropState, loadRmsPropState } from './rmsprop';
export type { Optimizer, OptimizerKind, OptimizerOptions, OptimizerState } from './optimizer';
export { OPTIMIZERS, OPTIMIZER_SLOTS, createOptimizer, optimizerApply, optimizerState, loadOptimizerState } from './optimizer';
export { clipWeights } from './clip';
export { DEFAULT_GP_WEIGHT, interpolationWeights } from './gradient-penalty';
