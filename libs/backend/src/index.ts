// Public API of @gan/backend: picks and starts the TF.js compute backend (tensorflow > webgpu > wasm > cpu) and its
// thread count, adds XNNPACK-based conv gradient kernels and transposed matmuls and accurate (float64-accumulating) Sum/Mean to wasm, and
// makes tfjs-core's gradients available under Node.
export {
  initBackend,
  backendInfo,
  describeBackend,
  gpuDeviceNode,
  defaultLoaders,
  BACKEND_NAMES,
  type BackendRequest,
  type ConcreteBackend,
  type BackendChoice,
  type BackendInfo,
  type BackendLog,
  type BackendLoader,
  type InitBackendOptions,
} from './init-backend';
export { ensureGradients, gradientsRegistered } from './gradients';
export {
  registerWasmConvKernels,
  wasmConvKernelsRegistered,
  conv2DBackpropFilterWasm,
  conv2DBackpropInputWasm,
} from './wasm-conv-kernels';
export { conv2DWasm, convByGemm, preferGemmConv } from './wasm-conv2d-kernel';
export { inputGradientByGemm, preferGemmInputGradient } from './wasm-conv-input-gemm';
export { registerWasmReduceKernels, wasmReduceKernelsRegistered, sumWasm, meanWasm } from './wasm-reduce-kernels';
export { registerWasmMatMulKernel, wasmMatMulKernelRegistered, batchMatMulWasm } from './wasm-matmul-kernel';
export { registerWasmIdentityKernel, wasmIdentityKernelRegistered, identityWasm } from './wasm-identity-kernel';
export { registerWasmTransposeKernel, wasmTransposeKernelRegistered, transposeWasm } from './wasm-transpose-kernel';
export { registerWasmLeakyReluKernel, wasmLeakyReluKernelRegistered, leakyReluWasm } from './wasm-leaky-relu-kernel';
export { registerWasmTileKernel, wasmTileKernelRegistered, tileWasm } from './wasm-tile-kernel';
export { BN_KERNELS, registerWebgpuBatchNormKernels, hasBatchNormKernels } from './webgpu-batch-norm-kernels';
export { KERNEL_ACTIVATION } from './webgpu-activation';
export { BIAS_ACTIVATION_KERNELS, registerWebgpuBiasActivationKernels, hasBiasActivationKernels } from './webgpu-bias-activation-kernels';
export { LOSS_KERNELS, registerWebgpuLossKernels, hasLossKernels } from './webgpu-loss-kernels';
export { registerWebgpuConvFilterGradient } from './webgpu-conv-filter-gradient';
export { uploadNow } from './webgpu-upload';
export { readInto, readIntoSync } from './read-into';
export { withWasmThreads } from './wasm-threads';
export { availableCores, threadsFor, threadsPerWorker } from './compute-threads';
export { createHostKernel, hostThreads, setHostThreads, MAX_HOST_ARGS, MIN_HOST_CHUNK, type HostChunk, type HostKernel } from './host-threads';
