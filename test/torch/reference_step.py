"""The reference GAN training steps in PyTorch, against which gan-train's TensorFlow.js steps are checked.

    /usr/bin/python3 test/torch/reference_step.py IN.safetensors OUT.safetensors

IN holds the initial state dict in PyTorch layout (every `g.*` and `d.*` entry, BatchNorm running stats and I64
`num_batches_tracked` included), the per-step inputs `input.real.{t}` (NCHW images, or [B, dataDim] for the MLP)
and `input.z.{t}` ([B, nz]) for t = 0..steps-1, and string metadata: `config` (the gan-train config as JSON),
`steps`, `lr`, `beta1`, `beta2`, `loss` ('non-saturating' | 'minimax' | 'hinge' | 'wgan'), `real_label` (e.g. '1'
or '0.9') and optionally `clip` (WGAN weight clipping: every D parameter clamped to [-clip, clip] after each D
update, as in Arjovsky et al.'s reference code) and `feature_matching` ('1': G minimises the mean squared difference
of the batch means of D's last hidden features on real and fake, Salimans et al.; D(real) runs before D(fake)) and
`optimizer` ('adam', the default, or 'rmsprop': torch.optim.RMSprop with its defaults, alpha 0.99, eps 1e-8, and
`lr`; `beta1`/`beta2` are then unused). A config with `spectralNorm` true gives D torch.nn.utils.spectral_norm on
every conv and linear layer (gan_torch.py); its `weight_u` / `weight_v` buffers are reported with the running stats.

Optional `d_after.<D param>`: gan-train's D after step 0's Adam update, which step 0's G phase then uses (see
train()). Optional `branch.{k}` (uint8 masks): the ReLU / LeakyReLU branches gan-train took in every step, replayed (see
BranchReplay); then OUT also gets `kinks.count`, `kinks.worst` and `kinks.call` ([2·steps] each: per step the D
phase, then the G phase).

Loss 'wgan-gp' (Gulrajani et al.) needs metadata `gp_weight` (λ) and tensors `input.eps.{t}` ([B]: gan-train's ε, one
interpolation weight per row): D's loss is wgan's plus λ·mean((‖∇x̂ D(x̂)‖₂ − 1)²), x̂ = ε·real + (1 − ε)·fake, whose
gradient autograd takes twice (create_graph); D(x̂) runs after D(real) and D(fake.detach()).

Metadata `unrolled` (U, default 0; Metz et al.'s unrolled GAN, the first-order variant gan-train implements): after
each step's D update, D and its optimiser's state are deep-copied (copy.deepcopy), the copy takes U more D updates
on tensors `input.real.{t}.u{j}`, `input.z.{t}.u{j}` (and `input.eps.{t}.u{j}` for wgan-gp), j = 0..U-1, each with
clipping as above, their fakes G(z) drawn without moving G's running stats (gan-train's D phase does not), and the G
phase runs through the copy, which is then discarded: the real D and its buffers are untouched after its update.
Optional `d_unrolled.<D param>`: gan-train's unrolled D of step 0, which step 0's G phase then uses (like
`d_after`); OUT then gets `dunrolled.d.<name>`, this script's own unrolled D of step 0.

Each step is the pytorch/examples dcgan step in float32 with both nets in train mode and one Adam (eps 1e-8) per
net: fake = G(z); D phase on D(real) and D(fake.detach()); G phase on a third D pass, D(fake).

OUT (all float32):
    loss.d, loss.g       [steps]: errD and errG of every step
    gz                   step 0's fake batch
    grad.<name>          step 0's gradient of every parameter (D's after errD.backward, G's after errG.backward)
    stats1.<name>        every BatchNorm running_mean / running_var after step 0
    weights1.<name>      every parameter after step 0
    dupdate.d.<name>     D's parameters right after step 0's Adam update (when IN has `d_after.*`)
    final.<name>         every parameter and BatchNorm running_mean / running_var after the last step
where <name> is the state_dict name (`g.fc.weight`, `d.bn2.running_var`, ...).

Bad input (a missing or misshapen tensor, bad metadata, an unreadable file) prints one line on stderr and exits
with status 2. GAN_TORCH_THREADS sets torch's thread count (default 2). Needs torch and numpy (see gan_torch.py).
"""

from __future__ import annotations

import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from gan_torch import GAN, load_safetensors, save_safetensors  # noqa: E402

USAGE = 'usage: reference_step.py IN.safetensors OUT.safetensors'
LOSSES = ('non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp')
OPTIMIZERS = ('adam', 'rmsprop')


class InputError(Exception):
    """A problem with the command line or IN: reported in one line, exit status 2."""


def _metadata(meta: dict, key: str, parse, check=lambda v: True, expected: str = ''):
    if key not in meta:
        raise InputError(f"metadata '{key}' is missing")
    try:
        value = parse(meta[key])
    except ValueError:
        value = None
    if value is None or not check(value):
        raise InputError(f"metadata '{key}' must be {expected}, got {meta[key]!r}")
    return value


def _float(s: str) -> float:
    v = float(s)
    if v != v or v in (float('inf'), float('-inf')):
        raise ValueError(s)
    return v


def read_inputs(path: str):
    """(model with IN's initial state, settings dict, [(real_t, z_t)]) from an IN file."""
    try:
        tensors, meta = load_safetensors(path)
    except (OSError, ValueError) as e:
        raise InputError(str(e)) from e

    if 'config' not in meta:
        raise InputError("metadata 'config' is missing")
    try:
        config = json.loads(meta['config'])
    except json.JSONDecodeError as e:
        raise InputError(f"metadata 'config' is not JSON: {e}") from None
    try:
        model = GAN.from_config(config)
    except ValueError as e:
        raise InputError(f"metadata 'config': {e}") from None
    settings = {
        'steps': _metadata(meta, 'steps', int, lambda v: v >= 1, 'a positive integer'),
        'lr': _metadata(meta, 'lr', _float, lambda v: v > 0, 'a positive number'),
        'beta1': _metadata(meta, 'beta1', _float, lambda v: 0 <= v < 1, 'a number in [0, 1)'),
        'beta2': _metadata(meta, 'beta2', _float, lambda v: 0 <= v < 1, 'a number in [0, 1)'),
        'loss': _metadata(meta, 'loss', str, lambda v: v in LOSSES, ' or '.join(LOSSES)),
        'real_label': _metadata(meta, 'real_label', _float, expected='a number'),
        'gp_weight': _metadata(meta, 'gp_weight', _float, lambda v: v >= 0, 'a number >= 0') if meta.get('loss') == 'wgan-gp' else None,
        'clip': _metadata(meta, 'clip', _float, lambda v: v > 0, 'a positive number') if 'clip' in meta else None,
        'feature_matching': meta.get('feature_matching') == '1',
        'optimizer': _metadata(meta, 'optimizer', str, lambda v: v in OPTIMIZERS, ' or '.join(OPTIMIZERS))
        if 'optimizer' in meta else 'adam',
        'unrolled': _metadata(meta, 'unrolled', int, lambda v: v >= 0, 'an integer >= 0') if 'unrolled' in meta else 0,
    }

    state = {k: v for k, v in tensors.items() if k.startswith(('g.', 'd.'))}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        # load_state_dict lists every missing / unexpected / misshapen key on separate lines.
        raise InputError('initial state does not fit the config: ' + ' '.join(str(e).split())) from None

    if model.config['model'] == 'dcgan':
        c, s = model.config['channels'], model.config['imageSize']
        sample_shape, sample_desc = (c, s, s), f'[B, {c}, {s}, {s}]'
    else:
        dim = model.g.fc3.out_features
        sample_shape, sample_desc = (dim,), f'[B, {dim}]'
    nz = model.g.nz
    batch_norm = getattr(model.g, 'batch_norm', False)
    batches = []
    for t in range(settings['steps']):
        real = _input(tensors, f'input.real.{t}')
        z = _input(tensors, f'input.z.{t}')
        if real.dim() != 1 + len(sample_shape) or tuple(real.shape[1:]) != sample_shape:
            raise InputError(f"'input.real.{t}' has shape {list(real.shape)}, expected {sample_desc}")
        if z.dim() != 2 or z.shape[1] != nz or z.shape[0] != real.shape[0]:
            raise InputError(f"'input.z.{t}' has shape {list(z.shape)}, expected [{real.shape[0]}, {nz}]")
        if batch_norm and real.shape[0] < 2:
            raise InputError(f"'input.real.{t}' has a batch of {real.shape[0]}; BatchNorm needs at least 2")
        batches.append((real, z))

    masks = []
    while f'branch.{len(masks)}' in tensors:
        m = tensors[f'branch.{len(masks)}']
        if m.dtype != torch.uint8:
            raise InputError(f"tensor 'branch.{len(masks)}' is {m.dtype}, expected uint8")
        masks.append(m.bool())
    settings['branches'] = masks
    known = set(state) | {f'input.{kind}.{t}' for kind in ('real', 'z') for t in range(settings['steps'])}
    known |= {f'branch.{i}' for i in range(len(masks))}
    # gan-train's D after step 0's Adam update: step 0's G phase runs through it (see train()).
    settings['d_after'] = {n[len('d_after.'):]: v for n, v in tensors.items() if n.startswith('d_after.')}
    known |= {f'd_after.{n}' for n in settings['d_after']}
    # The unrolled updates' inputs, per step: [(real, z, eps or None)] * U.
    settings['unroll'] = []
    for t in range(settings['steps']):
        step = []
        for j in range(settings['unrolled']):
            real = _input(tensors, f'input.real.{t}.u{j}')
            z = _input(tensors, f'input.z.{t}.u{j}')
            if tuple(real.shape) != tuple(batches[t][0].shape) or tuple(z.shape) != tuple(batches[t][1].shape):
                raise InputError(f"'input.real.{t}.u{j}' / 'input.z.{t}.u{j}' must have the shapes of 'input.real.{t}' / 'input.z.{t}'")
            eps = _input(tensors, f'input.eps.{t}.u{j}') if settings['loss'] == 'wgan-gp' else None
            if eps is not None and tuple(eps.shape) != (real.shape[0],):
                raise InputError(f"'input.eps.{t}.u{j}' has shape {list(eps.shape)}, expected [{real.shape[0]}]")
            step.append((real, z, eps))
            known |= {f'input.{kind}.{t}.u{j}' for kind in ('real', 'z', 'eps')}
        settings['unroll'].append(step)
    settings['d_unrolled'] = {n[len('d_unrolled.'):]: v for n, v in tensors.items() if n.startswith('d_unrolled.')}
    known |= {f'd_unrolled.{n}' for n in settings['d_unrolled']}
    if settings['loss'] == 'wgan-gp':
        settings['eps'] = [_input(tensors, f'input.eps.{t}') for t in range(settings['steps'])]
        for t, (e, (real, _)) in enumerate(zip(settings['eps'], batches)):
            if e.dim() != 1 or e.shape[0] != real.shape[0]:
                raise InputError(f"'input.eps.{t}' has shape {list(e.shape)}, expected [{real.shape[0]}]")
        known |= {f'input.eps.{t}' for t in range(settings['steps'])}
    extra = sorted(set(tensors) - known)
    if extra:
        raise InputError(f"unexpected tensor{'s' if len(extra) > 1 else ''} {', '.join(extra)}")
    return model, settings, batches


def _input(tensors: dict, name: str) -> torch.Tensor:
    if name not in tensors:
        raise InputError(f"tensor '{name}' is missing")
    t = tensors[name]
    # A float64 input would silently train a different (promoted) computation.
    if t.dtype != torch.float32:
        raise InputError(f"tensor '{name}' is {t.dtype}, expected float32")
    return t


class BranchReplay:
    """Every ReLU / LeakyReLU call takes the branch gan-train took (IN's `branch.{k}`, one bool mask per call, per
    step in the order fake = G(z), D(real), D(fake.detach()), D(fake)).

    Why: a step's gradient is discontinuous in the data wherever an activation's input sits within float32 rounding
    of zero; there two correct frameworks may take different branches, and one such unit moved every G gradient by
    ~3 %. Replaying gan-train's branch makes both compute the gradient of the same piecewise-linear function. Where a
    replayed branch differs from ours, the input must be near zero: the flips and their largest |x| / max |x| of
    that call are reported per phase (OUT `kinks.count`, `kinks.worst`, and `kinks.call`: which of the phase's
    calls; [2·steps] each, the D then the G phase of every step) for the test to bound.
    """

    def __init__(self, masks: list):
        self.masks = list(masks)
        self.calls = 0
        self.count: list[int] = []
        self.worst: list[float] = []
        self.worst_call: list[int] = []
        self.phase_start = 0

    def begin_phase(self) -> None:
        self.count.append(0)
        self.worst.append(0.0)
        self.worst_call.append(-1)
        self.phase_start = self.calls

    def _take(self, x: torch.Tensor, slope: float) -> torch.Tensor:
        if self.calls >= len(self.masks):
            raise InputError(f'IN holds {len(self.masks)} branch masks, the step made more activation calls')
        mask = self.masks[self.calls]
        if tuple(mask.shape) != tuple(x.shape):
            raise InputError(f"'branch.{self.calls}' has shape {list(mask.shape)}, activation call {self.calls} has {list(x.shape)}")
        self.calls += 1
        flipped = mask != (x > 0)
        if bool(flipped.any()):
            scale = float(x.detach().abs().max())
            self.count[-1] += int(flipped.sum())
            far = float(x.detach()[flipped].abs().max()) / scale
            if far > self.worst[-1]:
                self.worst[-1], self.worst_call[-1] = far, self.calls - 1 - self.phase_start
        keep = mask.to(x.dtype)
        return x * (keep + slope * (1 - keep))

    def relu(self, x, inplace=False):
        return self._take(x, 0.0)

    def leaky_relu(self, x, negative_slope=0.01, inplace=False):
        return self._take(x, negative_slope)


def bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def d_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float) -> torch.Tensor:
    # torch.clamp, not F.relu: the branch replay patches F.relu, and the hinge is part of the loss, not of D.
    if kind == 'hinge':
        return torch.clamp(1 - real_logits, min=0).mean() + torch.clamp(1 + fake_logits, min=0).mean()
    if kind in ('wgan', 'wgan-gp'):
        return fake_logits.mean() - real_logits.mean()
    return bce(real_logits, real_label) + bce(fake_logits, 0.0)


def g_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    if kind == 'minimax':
        return -bce(fake_logits, 0.0)
    if kind in ('hinge', 'wgan', 'wgan-gp'):
        return -fake_logits.mean()
    return bce(fake_logits, 1.0)


def gradient_penalty(d, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor, weight: float) -> torch.Tensor:
    """WGAN-GP's λ·mean((‖∇x̂ D(x̂)‖₂ − 1)²) on x̂ = ε·real + (1 − ε)·fake, as Gulrajani et al.'s code computes it."""
    e = eps.view(-1, *([1] * (real.dim() - 1)))
    x = (e * real + (1 - e) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    return weight * ((grad.reshape(grad.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()


def running_stats(model: GAN) -> dict:
    # Spectral norm's power-iteration vectors are buffers too, updated on every D forward in train mode.
    return {name: buf.detach().clone() for name, buf in model.named_buffers()
            if name.endswith(('.running_mean', '.running_var', '.weight_u', '.weight_v'))}


def train(model: GAN, settings: dict, batches) -> dict:
    """Runs the steps; returns OUT's tensors."""
    g, d = model.g, model.d
    model.train()
    def optimizer(params):
        if settings['optimizer'] == 'rmsprop':
            # The WGAN paper's optimiser, torch's defaults (alpha 0.99, eps 1e-8, no momentum, not centered).
            return torch.optim.RMSprop(params, lr=settings['lr'])
        return torch.optim.Adam(params, lr=settings['lr'], betas=(settings['beta1'], settings['beta2']), eps=1e-8)

    opt_g = optimizer(g.parameters())
    opt_d = optimizer(d.parameters())
    kind = settings['loss']

    def d_update(net, opt, real, fake, eps):
        """One D update of `net` (the real D or the unrolled copy): errD, backward, the optimiser, clipping."""
        opt.zero_grad()
        err = d_loss(kind, net(real), net(fake), settings['real_label'])
        if kind == 'wgan-gp':
            err = err + gradient_penalty(net, real, fake, eps, settings['gp_weight'])
        err.backward()
        grads = {n: p.grad.detach().clone() for n, p in net.named_parameters()}
        opt.step()
        if settings['clip'] is not None:
            with torch.no_grad():
                for p in net.parameters():
                    p.clamp_(-settings['clip'], settings['clip'])
        return err, grads

    def unroll(t):
        """D deep-copied with its optimiser's state, advanced by the step's unrolled updates (Metz et al.)."""
        d_u = copy.deepcopy(d)
        opt_u = optimizer(d_u.parameters())
        opt_u.load_state_dict(copy.deepcopy(opt_d.state_dict()))
        for real_u, z_u, eps_u in settings['unroll'][t]:
            # gan-train's D phase makes its fakes without moving G's running stats: a throwaway copy of G makes them
            # (writing G's own stats back in place would break the pending backward through this step's G(z)).
            with torch.no_grad():
                fake_u = copy.deepcopy(g)(z_u)
            d_update(d_u, opt_u, real_u, fake_u, eps_u)
        return d_u

    out = {}
    losses_d, losses_g = [], []
    replay = BranchReplay(settings['branches']) if settings['branches'] else None
    saved = (F.relu, F.leaky_relu)
    for t, (real, z) in enumerate(batches):
        if replay:
            replay.begin_phase()
            F.relu, F.leaky_relu = replay.relu, replay.leaky_relu
        # The step's only G forward: G's BN running stats move once per step, D's three times.
        fake = g(z)

        err_d, grads_d = d_update(d, opt_d, real, fake.detach(), settings['eps'][t] if kind == 'wgan-gp' else None)
        if t == 0:
            out.update({f'grad.d.{n}': v for n, v in grads_d.items()})
        if t == 0 and settings['d_after']:
            # Adam's first step moves a weight by lr·g/(|g| + eps): where |g| is at eps's scale, float noise in g
            # moves the weight by a share of lr, and G's gradient goes through those weights. So step 0's G phase
            # runs through gan-train's updated D (the test compares this D, `dupdate.*`, with gan-train's first).
            out.update({f'dupdate.d.{n}': p.detach().clone() for n, p in d.named_parameters()})
            with torch.no_grad():
                for n, p in d.named_parameters():
                    if n not in settings['d_after'] or settings['d_after'][n].shape != p.shape:
                        raise InputError(f"'d_after.{n}' is missing or misshapen")
                    p.copy_(settings['d_after'][n])

        if replay:
            replay.begin_phase()
        # The G phase's D: the real one, or (unrolled) a transient copy advanced by U more updates.
        d_g = d
        if settings['unrolled']:
            d_g = unroll(t)
            if t == 0 and settings['d_unrolled']:
                # As with d_after: the unrolled Adam steps part the runs on elements with gradients at eps's scale.
                out.update({f'dunrolled.d.{n}': p.detach().clone() for n, p in d_g.named_parameters()})
                with torch.no_grad():
                    for n, p in d_g.named_parameters():
                        if n not in settings['d_unrolled'] or settings['d_unrolled'][n].shape != p.shape:
                            raise InputError(f"'d_unrolled.{n}' is missing or misshapen")
                        p.copy_(settings['d_unrolled'][n])
        opt_g.zero_grad()
        if settings['feature_matching']:
            err_g = (d_g.features(real).mean(0) - d_g.features(fake).mean(0)).pow(2).mean()
        else:
            err_g = g_loss(kind, d_g(fake))
        err_g.backward()
        if t == 0:
            out.update({f'grad.g.{n}': p.grad.detach().clone() for n, p in g.named_parameters()})
        opt_g.step()

        losses_d.append(err_d.detach())
        losses_g.append(err_g.detach())
        if t == 0:
            out['gz'] = fake.detach().clone()
            out.update({f'stats1.{n}': v for n, v in running_stats(model).items()})
            out.update({f'weights1.{n}': p.detach().clone() for n, p in model.named_parameters()})

    F.relu, F.leaky_relu = saved
    if replay:
        if replay.calls != len(replay.masks):
            raise InputError(f'IN holds {len(replay.masks)} branch masks, the steps made {replay.calls} activation calls')
        out['kinks.count'] = torch.tensor([float(c) for c in replay.count])
        out['kinks.worst'] = torch.tensor(replay.worst)
        out['kinks.call'] = torch.tensor([float(c) for c in replay.worst_call])
    out['loss.d'] = torch.stack(losses_d)
    out['loss.g'] = torch.stack(losses_g)
    out.update({f'final.{n}': p.detach().clone() for n, p in model.named_parameters()})
    out.update({f'final.{n}': v for n, v in running_stats(model).items()})
    return out


def main(argv: list[str]) -> int:
    try:
        if len(argv) != 2:
            raise InputError(USAGE)
        threads = os.environ.get('GAN_TORCH_THREADS', '2')
        if not threads.isdigit() or int(threads) < 1:
            raise InputError(f'GAN_TORCH_THREADS must be a positive integer, got {threads!r}')
        torch.set_num_threads(int(threads))
        # Nothing random is drawn (IN supplies every input); seeding only makes an accidental draw reproducible.
        torch.manual_seed(0)
        model, settings, batches = read_inputs(argv[0])
        out = train(model, settings, batches)
        try:
            save_safetensors(argv[1], out, {'torch_version': torch.__version__})
        except OSError as e:
            raise InputError(f'cannot write {argv[1]}: {e.strerror or e}') from None
    except InputError as e:
        print(f'reference_step: {e}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
