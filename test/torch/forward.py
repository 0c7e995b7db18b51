"""Loads a `gan-train export --format torch` file into gan_torch's GAN with one load_state_dict call and runs
G(z) and D(x) on given inputs, so the export test can check that PyTorch reproduces the product's outputs.

    /usr/bin/python3 test/torch/forward.py MODEL.safetensors INPUTS.safetensors OUT.safetensors

INPUTS holds `z` [B,nz] and `x` ([B,C,H,W] images or [B,dataDim] points). OUT gets `gz` (G(z), same layouts) and
`dx` (D's logits for x, [B]). BatchNorm runs with each batch's statistics (train mode), as gan-train samples and as
its training step sees a batch; nothing is learned (no_grad), and the running statistics are not read.
"""

from __future__ import annotations

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gan_torch import GAN, load_safetensors, save_safetensors  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print('usage: forward.py MODEL.safetensors INPUTS.safetensors OUT.safetensors', file=sys.stderr)
        return 2
    model_path, inputs_path, out_path = argv
    torch.set_num_threads(int(os.environ.get('GAN_TORCH_THREADS', '2')))
    try:
        sd, meta = load_safetensors(model_path)
        model = GAN.from_config(json.loads(meta['config']))
        model.load_state_dict(sd)
        inputs, _ = load_safetensors(inputs_path)
        z, x = inputs['z'], inputs['x']
    except (KeyError, ValueError) as e:
        print(f'forward.py: {e}', file=sys.stderr)
        return 2
    model.train()
    with torch.no_grad():
        gz = model.g(z)
        dx = model.d(x).reshape(-1)
    save_safetensors(out_path, {'gz': gz.contiguous(), 'dx': dx.contiguous()})
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
