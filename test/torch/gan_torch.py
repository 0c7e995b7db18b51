"""gan-train's model family (DCGAN and the 2-D toy MLP GAN) in PyTorch, plus a dependency-free safetensors reader
and writer.

The module and parameter names are the PyTorch state_dict names that `gan-train export --format torch` writes, so
an exported run loads straight into these modules. To use a model trained with gan-train from PyTorch, copy this
file next to your code (or put its folder on sys.path) and:

    import json
    import torch
    from gan_torch import GAN, load_safetensors

    sd, meta = load_safetensors('model.safetensors')   # made by: gan-train export --run DIR --format torch
    model = GAN.from_config(json.loads(meta['config']))
    model.load_state_dict(sd)
    model.eval()
    images = model.g(torch.randn(16, model.g.nz))       # NCHW in [-1, 1] (DCGAN) or [16, dataDim] (MLP)

Where the `safetensors` package is installed, `sd = safetensors.torch.load_file(path)` works too (the metadata is
then in `safetensors.safe_open(path, 'pt').metadata()`).

Needs torch and numpy only. The test suite's reference training step (reference_step.py, next to this file)
imports it; it is not meant to be run by itself.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from typing import Mapping, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    'dcgan_plan', 'DcganGenerator', 'DcganDiscriminator', 'MlpGenerator', 'MlpDiscriminator', 'GAN',
    'load_safetensors', 'save_safetensors',
]

LEAK = 0.2


# ---------------------------------------------------------------------------------------------------------------
# Architectures
# ---------------------------------------------------------------------------------------------------------------

def dcgan_plan(image_size: int, channels: int, ngf: int, ndf: int) -> tuple[int, int, list[int], list[int]]:
    """The DCGAN family rule: (s0, stages, g_widths, d_widths) for an image side.

    Each stage is a stride-2 (de)convolution, so the side must be reachable by exact doubling from s0: 28 = 7·2²,
    otherwise 4·2^k with k ≥ 1 (8, 16, 32, 64, ...). g_widths = [ngf·2^(k-1), ..., ngf, channels] and
    d_widths = [channels, ndf, ..., ndf·2^(k-1)], k+1 entries each.
    """
    n = image_size
    if not isinstance(n, int) or isinstance(n, bool):
        raise ValueError(f'image size must be an integer, got {n!r}')
    if n == 28:
        s0, stages = 7, 2
    elif n >= 8 and n % 4 == 0 and (n // 4) & (n // 4 - 1) == 0:
        s0, stages = 4, (n // 4).bit_length() - 1
    else:
        raise ValueError(f'image size {n!r} cannot be made by this architecture: use 28 or 4·2^k (8, 16, 32, 64, ...)')
    g_widths = [ngf * 2 ** i for i in range(stages - 1, -1, -1)] + [channels]
    d_widths = [channels] + [ndf * 2 ** i for i in range(stages)]
    return s0, stages, g_widths, d_widths


class DcganGenerator(nn.Module):
    """z [B, nz] → images [B, channels, image_size, image_size] in [-1, 1]."""

    def __init__(self, nz: int, image_size: int, channels: int, ngf: int, batch_norm: bool):
        super().__init__()
        s0, stages, widths, _ = dcgan_plan(image_size, channels, ngf, 1)
        self.nz, self.s0, self.c0, self.stages = nz, s0, widths[0], stages
        self.batch_norm = batch_norm
        self.fc = nn.Linear(nz, self.c0 * s0 * s0)
        if batch_norm:
            self.bn0 = nn.BatchNorm1d(self.c0 * s0 * s0)
        # setattr rather than a ModuleList: the flat names (deconv1, bn1, ...) are the exported state_dict names.
        for i in range(1, stages + 1):
            setattr(self, f'deconv{i}', nn.ConvTranspose2d(widths[i - 1], widths[i], 4, 2, 1))
            if batch_norm and i < stages:
                setattr(self, f'bn{i}', nn.BatchNorm2d(widths[i]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z)
        if self.batch_norm:
            x = self.bn0(x)
        x = F.relu(x).view(z.shape[0], self.c0, self.s0, self.s0)
        for i in range(1, self.stages + 1):
            x = getattr(self, f'deconv{i}')(x)
            if i < self.stages:
                if self.batch_norm:
                    x = getattr(self, f'bn{i}')(x)
                x = F.relu(x)
        return torch.tanh(x)


class DcganDiscriminator(nn.Module):
    """images [B, channels, image_size, image_size] → logits [B, 1] (no sigmoid: losses take logits)."""

    def __init__(self, image_size: int, channels: int, ndf: int, batch_norm: bool):
        super().__init__()
        s0, stages, _, widths = dcgan_plan(image_size, channels, 1, ndf)
        self.stages, self.batch_norm = stages, batch_norm
        for i in range(1, stages + 1):
            setattr(self, f'conv{i}', nn.Conv2d(widths[i - 1], widths[i], 4, 2, 1))
            # As in pytorch/examples dcgan, the first conv sees raw pixels and gets no BatchNorm.
            if batch_norm and i >= 2:
                setattr(self, f'bn{i}', nn.BatchNorm2d(widths[i]))
        self.fc = nn.Linear(widths[stages] * s0 * s0, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The input of the last layer, [B, widths[-1]·s0·s0]: what feature matching compares."""
        for i in range(1, self.stages + 1):
            x = getattr(self, f'conv{i}')(x)
            if self.batch_norm and i >= 2:
                x = getattr(self, f'bn{i}')(x)
            x = F.leaky_relu(x, LEAK)
        # PyTorch's (c, h, w) flattening order; exported fc.weight columns follow it (gan-train's own NHWC model
        # flattens (h, w, c), and the exporter permutes).
        return x.view(x.shape[0], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


class MlpGenerator(nn.Module):
    """z [B, nz] → points [B, data_dim]."""

    def __init__(self, nz: int, hidden: int, data_dim: int):
        super().__init__()
        self.nz = nz
        self.fc1 = nn.Linear(nz, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, data_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(z)))))


class MlpDiscriminator(nn.Module):
    """points [B, data_dim] → logits [B, 1]."""

    def __init__(self, hidden: int, data_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(data_dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The input of the last layer, [B, hidden]: what feature matching compares."""
        return F.leaky_relu(self.fc2(F.leaky_relu(self.fc1(x), LEAK)), LEAK)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(self.features(x))


def _config_field(cfg: Mapping, key: str, kind: type, default=None):
    value = cfg.get(key, default)
    # bool is an int subclass; a JSON true is never a valid width.
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f'model config: {key} must be {kind.__name__}, got {value!r}')
    if kind is int and value < 1:
        raise ValueError(f'model config: {key} must be a positive integer, got {value!r}')
    return value


class GAN(nn.Module):
    """A generator `g` and a discriminator `d`, built from a gan-train config.

    The config is a dict with the product's camelCase keys (`model`, `imageSize`, `channels`, `nz`, `ngf`, `ndf`,
    `norm`, `mlpHidden`, `dataDim`, `spectralNorm`); other keys, such as the training fields of a full run config,
    are ignored. `spectralNorm` true wraps every conv and linear layer of D in torch.nn.utils.spectral_norm (one
    power iteration per forward in train mode; state_dict names `weight_orig`, `weight_u`, `weight_v`).
    """

    def __init__(self, config: Mapping):
        super().__init__()
        if not isinstance(config, Mapping):
            raise ValueError(f'model config: expected an object, got {type(config).__name__}')
        kind = config.get('model')
        nz = _config_field(config, 'nz', int)
        if kind == 'dcgan':
            image_size = _config_field(config, 'imageSize', int)
            channels = _config_field(config, 'channels', int)
            ngf = _config_field(config, 'ngf', int)
            ndf = _config_field(config, 'ndf', int)
            norm = config.get('norm')
            if norm not in ('batch', 'none'):
                raise ValueError(f"model config: norm must be 'batch' or 'none', got {norm!r}")
            self.g = DcganGenerator(nz, image_size, channels, ngf, norm == 'batch')
            self.d = DcganDiscriminator(image_size, channels, ndf, norm == 'batch')
        elif kind == 'mlp':
            hidden = _config_field(config, 'mlpHidden', int)
            # gan-train's MLP data are the 2-D toy mixtures; configs from before dataDim existed omit it.
            data_dim = _config_field(config, 'dataDim', int, default=2)
            self.g = MlpGenerator(nz, hidden, data_dim)
            self.d = MlpDiscriminator(hidden, data_dim)
        else:
            raise ValueError(f"model config: model must be 'dcgan' or 'mlp', got {kind!r}")
        spectral = config.get('spectralNorm', False)
        if not isinstance(spectral, bool):
            raise ValueError(f'model config: spectralNorm must be a boolean, got {spectral!r}')
        if spectral:
            for m in list(self.d.modules()):
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.utils.spectral_norm(m)
        self.config = dict(config)

    @classmethod
    def from_config(cls, config: Mapping) -> 'GAN':
        return cls(config)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.g(z)


# ---------------------------------------------------------------------------------------------------------------
# safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length N | N bytes of JSON
# header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}} | the tensors' bytes,
# contiguous, offsets relative to the data start.
# ---------------------------------------------------------------------------------------------------------------

_NUMPY_DTYPES = {
    'F64': np.dtype('<f8'), 'F32': np.dtype('<f4'), 'F16': np.dtype('<f2'),
    'I64': np.dtype('<i8'), 'I32': np.dtype('<i4'), 'I16': np.dtype('<i2'), 'I8': np.dtype('i1'),
    'U8': np.dtype('u1'), 'BOOL': np.dtype('?'),
    # numpy has no bfloat16: its bytes travel as int16 and are reinterpreted by torch.
    'BF16': np.dtype('<i2'),
}
_TORCH_DTYPES = {
    'F64': torch.float64, 'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16,
    'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8,
    'U8': torch.uint8, 'BOOL': torch.bool,
}
_DTYPE_NAMES = {t: name for name, t in _TORCH_DTYPES.items()}

# Same cap as the reference implementation: a larger "header" is a corrupt or hostile file.
_MAX_HEADER_BYTES = 100_000_000

# gan-train's writer adds the sha256 of the data section under this metadata key, so torn or rotted files are
# caught here as they are by the product's own reader.
_CHECKSUM_KEY = 'sha256'


def _is_shape(v) -> bool:
    return isinstance(v, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v)


def load_safetensors(path: str) -> tuple['OrderedDict[str, torch.Tensor]', dict]:
    """Reads a safetensors file: (name → tensor in header order, metadata dict).

    The file is fully validated; any problem raises a one-line ValueError naming the file. A `sha256` metadata
    entry (gan-train's writer adds one) is checked against the data section. The tensors are fresh, writable copies
    (not views of the file).
    """
    with open(path, 'rb') as f:
        buf = f.read()

    def fail(problem: str):
        raise ValueError(f'safetensors file {path} {problem}')

    if len(buf) < 8:
        fail(f'is truncated: {len(buf)} bytes, too short for the 8-byte header length')
    header_len = int.from_bytes(buf[:8], 'little')
    if header_len > len(buf) - 8:
        fail(f'is truncated: header length is {header_len} bytes, file has {len(buf) - 8} after the length field')
    if header_len > _MAX_HEADER_BYTES:
        fail(f'has an implausible header length of {header_len} bytes')
    try:
        header = json.loads(buf[8:8 + header_len].decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f'has an invalid JSON header: {e}')
    if not isinstance(header, dict):
        fail('has a header that is not a JSON object')
    data = memoryview(buf)[8 + header_len:]

    metadata = header.pop('__metadata__', {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail('has __metadata__ that is not a string-to-string object')

    entries = []
    for name, spec in header.items():
        if not isinstance(spec, dict):
            fail(f"has a header entry '{name}' that is not an object")
        dtype, shape, offsets = spec.get('dtype'), spec.get('shape'), spec.get('data_offsets')
        if dtype not in _NUMPY_DTYPES:
            fail(f"has tensor '{name}' with unsupported dtype {dtype!r} (supported: {'|'.join(_NUMPY_DTYPES)})")
        if not _is_shape(shape):
            fail(f"has tensor '{name}' with invalid shape {shape!r}")
        if not (_is_shape(offsets) and len(offsets) == 2 and offsets[0] <= offsets[1]):
            fail(f"has tensor '{name}' with invalid data_offsets {offsets!r}")
        begin, end = offsets
        needed = math.prod(shape) * _NUMPY_DTYPES[dtype].itemsize
        if end - begin != needed:
            fail(f"has tensor '{name}' whose data_offsets [{begin}, {end}] span {end - begin} bytes, "
                 f'but {dtype} {shape} needs {needed}')
        if end > len(data):
            fail(f"is truncated: tensor '{name}' ends at data byte {end}, file has {len(data)}")
        entries.append((name, dtype, shape, begin, end))

    # As the reference implementation requires, the data section is exactly the tensors back to back: a gap or an
    # overlap means a corrupt header, bytes after the last tensor a corrupt length.
    cursor = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin < cursor:
            fail(f"has overlapping tensors at tensor '{name}'")
        if begin > cursor:
            fail(f"has a {begin - cursor}-byte gap in the data before tensor '{name}'")
        cursor = end
    if cursor != len(data):
        fail(f'has {len(data) - cursor} unexpected bytes after the last tensor')

    expected_sum = metadata.get(_CHECKSUM_KEY)
    if expected_sum is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected_sum:
            fail(f'is corrupt: data checksum mismatch (sha256 {actual}, expected {expected_sum})')

    tensors = OrderedDict()
    for name, dtype, shape, begin, end in entries:
        raw = np.frombuffer(data[begin:end], dtype=_NUMPY_DTYPES[dtype])
        # astype to native order copies, which both makes the tensor writable and fixes big-endian hosts.
        t = torch.from_numpy(raw.astype(raw.dtype.newbyteorder('='))).reshape(shape)
        tensors[name] = t.view(torch.bfloat16) if dtype == 'BF16' else t
    return tensors, dict(metadata)


def _little_endian_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()


def save_safetensors(path: str, tensors: Mapping[str, torch.Tensor],
                     metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes tensors (name → tensor, any supported dtype) and string metadata as a safetensors file."""
    for name, t in tensors.items():
        if not isinstance(name, str) or not name or name == '__metadata__':
            raise ValueError(f'save_safetensors: invalid tensor name {name!r}')
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"save_safetensors: '{name}' is a {type(t).__name__}, not a torch.Tensor")
        if t.dtype not in _DTYPE_NAMES:
            raise ValueError(f"save_safetensors: '{name}' has unsupported dtype {t.dtype}")
    metadata = dict(metadata or {})
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError(f'save_safetensors: metadata must map strings to strings, got {k!r}: {v!r}')

    # Largest element size first (then by name, as the reference implementation orders them): with an 8-byte
    # aligned data start, every tensor is then naturally aligned when the file is memory-mapped.
    order = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header: dict = {'__metadata__': metadata} if metadata else {}
    chunks = []
    offset = 0
    for name in order:
        t = tensors[name]
        chunk = _little_endian_bytes(t)
        header[name] = {'dtype': _DTYPE_NAMES[t.dtype], 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(chunk)]}
        chunks.append(chunk)
        offset += len(chunk)
    head = json.dumps(header, separators=(',', ':')).encode('utf-8')
    head += b' ' * (-(8 + len(head)) % 8)
    with open(path, 'wb') as f:
        f.write(len(head).to_bytes(8, 'little'))
        f.write(head)
        for chunk in chunks:
            f.write(chunk)
