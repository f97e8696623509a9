"""Named settings for every case of the paper (supplementary material, section 4).

A :class:`Preset` bundles the network, the code and the fitting defaults.
Each case of a task has a paper preset; ``"fast"`` keeps the case's settings
but swaps in a lighter network and applies :data:`FAST_CHANGES` (automatic
stop, EMA output). :func:`task_preset` maps (task, factor, inpainting kind,
preset name) to the settings: the one place that knows, e.g., that x8
super-resolution uses the paper's x8 case. ``"auto"``, the default, is
resolved to a name first, for the task and the image, by
:func:`napari_dip.core.tasks.preset_choice.choose_preset`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from napari_dip.core import validation as check
from napari_dip.core.model.networks import NetworkSpec


@dataclass(frozen=True)
class Preset:
    """Network, code and optimisation defaults for one case."""

    network: NetworkSpec
    code: str = "noise"  # "noise", "meshgrid", "guide" or "observation" (the noisy image, held-out pixels masked)
    code_channels: int = 32
    code_noise_std: float = 1 / 30  # sigma_p
    iterations: int = 1800
    lr: float = 0.01
    ema: float = 0.99  # gamma of the exponential moving average of outputs
    use_ema: bool = True  # return the EMA rather than the last output
    auto_stop: bool = False  # stop when the outputs settle (ground-truth-free early stopping)
    patience: int = 500  # iterations the automatic stop waits for a new minimum
    min_gain: float = 0.0  # ... that is at least this share below the last one (0: any new minimum)
    optimize: str = "net"  # what Adam fits: "net", "code" or "both"
    code_lr: float | None = None  # learning rate of the code and the BatchNorm layers (None: lr)
    tv_weight: float = 0.0  # weight of the output's total variation in the loss
    root_loss: bool = False  # fit the root of the data term (the RMS error)
    members: int = 1  # independent networks (own weights and code) fitted side by side, outputs averaged
    holdout: float = 0.0  # share of the pixels left out of the fit; the automatic stop follows their error
    sure_sigma: float | str | None = None  # noise level of a SURE data term ("auto": estimated from the image)
    back_projections: int = 0  # super-resolution: back-projection steps onto the low-resolution image at the end

    def __post_init__(self):
        check.positive_whole("members", self.members)


PAPER_NET = NetworkSpec()
FAST_NET = NetworkSpec(down=(32, 32, 64, 64, 128), up=(32, 32, 64, 64, 128), skip=(4,) * 5)
SIX_SCALES = (16, 32, 64, 128, 128, 128)

PRESETS: dict[str, Preset] = {
    "denoise": Preset(PAPER_NET, iterations=1800),
    "jpeg": Preset(
        NetworkSpec(down=(8, 16, 32, 64, 128), up=(8, 16, 32, 64, 128), skip=(0, 0, 0, 4, 4)),
        code_channels=3,
        iterations=2400,
    ),
    "sr4": Preset(PAPER_NET, iterations=2000, use_ema=False),
    "sr8": Preset(PAPER_NET, code_noise_std=1 / 20, iterations=4000, use_ema=False),
    "text_inpainting": Preset(PAPER_NET, iterations=6000, use_ema=False),
    "large_hole": Preset(
        NetworkSpec(skip=(0,) * 5), code="meshgrid", code_channels=2, iterations=5000, use_ema=False
    ),
    "large_hole_deep": Preset(
        NetworkSpec(down=SIX_SCALES, up=SIX_SCALES, skip=(0,) * 6, kernel_down=3, kernel_up=5, upsample="nearest"),
        code_noise_std=0.0,
        iterations=5000,
        lr=0.1,
        use_ema=False,
    ),
    "sparse_pixels": Preset(PAPER_NET, iterations=11000, lr=0.001, use_ema=False),
    "enhance": Preset(PAPER_NET, code_noise_std=0.0, iterations=300, use_ema=False),
    "flash": Preset(  # the reference code's net: nearest up-sampling at the two outer scales, then bilinear
        replace(PAPER_NET, upsample=("nearest", "nearest", "bilinear", "bilinear", "bilinear")), code="guide", code_noise_std=0.0, iterations=600, lr=0.1, use_ema=False
    ),
    "preimage": Preset(
        NetworkSpec(
            down=SIX_SCALES, up=SIX_SCALES, skip=(4,) * 6, kernel_down=(7, 7, 5, 5, 3, 3), kernel_up=(7, 7, 5, 5, 3, 3),
            upsample="nearest", padding="zero",
        ),
        code_noise_std=0.0,
        iterations=3100,
        lr=0.001,
        use_ema=False,
    ),
    "activation_max": Preset(
        NetworkSpec(
            down=SIX_SCALES, up=SIX_SCALES, skip=(0, 4, 4, 4, 4, 4), kernel_down=(5, 3, 5, 5, 3, 5),
            kernel_up=(5, 3, 5, 5, 3, 5), padding="zero",
        ),
        code_noise_std=0.03,
        iterations=3100,
        lr=0.001,
        use_ema=False,
    ),
    # Denoising in a few hundred iterations, after Deep Random Projector (Li et al., CVPR 2023): two fast networks,
    # each with a 3-channel code behind a BatchNorm, are fitted with their codes (the codes and the BatchNorm layers
    # at a high rate) under an RMS error + TV loss, and averaged. On smooth photos it gets near the paper preset's
    # best in a tenth of the time; it smooths texture away (benchmarks/time_to_quality.py).
    "drp": Preset(
        replace(FAST_NET, input_norm=True), code_channels=3, code_noise_std=0.0, iterations=300, lr=0.001,
        code_lr=0.1, optimize="both", tv_weight=0.2, root_loss=True, ema=0.9, members=2,
    ),
    # Denoising from the noisy image itself, after DIP-SURE (Jo et al., ICCV 2021): the fast network maps the noisy
    # image (with a random share of Gaussian noise added) to the clean one, fitted to Stein's unbiased estimate of
    # its error for the noise level estimated from the image. 5 % of the pixels are blind spots: held out of the
    # loss and, in the input, replaced by the mean of their neighbours; the fit stops where their error is lowest
    # (50 iterations after its minimum: 50 and 100 kept the same pictures on 12 photos, benchmarks/sure_patience.py).
    "sure": Preset(
        FAST_NET, code="observation", code_noise_std=0.0, iterations=1000, auto_stop=True, patience=50,
        holdout=0.05, sure_sigma="auto",
    ),
    # Alternative generators for denoising (the paper compares U-Net and ResNet with the skip net).
    "unet": Preset(NetworkSpec(architecture="unet", down=(32, 64, 128, 256), up=(), skip=()), iterations=1800),
    "resnet": Preset(NetworkSpec(architecture="resnet", down=(32,), up=(), skip=(), blocks=8), iterations=1800),
    "deep_decoder": Preset(
        NetworkSpec(architecture="deep_decoder", down=(128,) * 5, up=(), skip=()),
        code_channels=128,
        code_noise_std=0.0,
        iterations=4000,
    ),
}

#: The paper preset of each task.
TASK_PRESETS = {
    "denoise": "denoise",
    "jpeg": "jpeg",
    "super_resolution": "sr4",
    "inpaint_text": "text_inpainting",
    "inpaint_hole": "large_hole",
    "inpaint_sparse": "sparse_pixels",
    "enhance": "enhance",
    "flash": "flash",
    "preimage": "preimage",
    "activation_max": "activation_max",
}


#: Inpainting's stop: known pixels are held out and the fit stops once their error has fallen by less than 5 % in
#: 200 iterations (inpaint_regions.py --defaults, classic_quality.py --parts text; 2 % ran 1.5-3x longer).
HELD_OUT_STOP = {"use_ema": True, "auto_stop": True, "holdout": 0.05, "patience": 200, "min_gain": 0.05}
#: What ``"fast"`` changes besides the network, per paper case: the default of the Python API, the command line
#: and the widgets. Denoising and JPEG restoration stop by themselves, with no clean image
#: (benchmarks/time_to_quality.py).
FAST_CHANGES: dict[str, dict] = {
    "denoise": {"auto_stop": True, "patience": 200},
    "jpeg": {"auto_stop": True, "patience": 200},
    # The EMA of the outputs beats the last output wherever the code is perturbed (benchmarks/ema_vs_last.py);
    # one back-projection step matches the low-resolution image the fit has not yet matched (sr_quality.py).
    "sr4": {"use_ema": True, "back_projections": 1},
    "sr8": {"use_ema": True, "back_projections": 1},
    # Known pixels shaped like the strokes are held out.
    "text_inpainting": HELD_OUT_STOP,
    # Random known pixels are held out (like the missing ones); the fill is averaged with biharmonic inpainting by
    # the share they choose (stop_quality.py).
    "sparse_pixels": HELD_OUT_STOP,
    # Large holes: a longer patience, as the coordinate-grid network's held-out error rises for its first few
    # hundred iterations before it falls (200 stopped at iteration 250 on a photo, keeping iteration 100's blur;
    # stop_quality.py --tasks hole).
    "large_hole": {**HELD_OUT_STOP, "patience": 300},
}
#: The preset that picks the fastest measured settings for the task and the image
#: (:mod:`napari_dip.core.tasks.preset_choice`).
AUTO = "auto"
#: The preset the Python API, the command line and the widgets use when none is given.
DEFAULT_PRESET = AUTO
#: Names :func:`task_preset` maps to a case's settings.
CASE_PRESETS = ("fast", "paper")

#: One line on each preset a user picks by name (the command line's and the widgets' help).
PRESET_NOTES = {
    "auto": "the default: the fastest preset measured for the task and the image",
    "fast": "a lighter network, averaged outputs; denoising, JPEG restoration and inpainting stop by themselves",
    "paper": "the network and settings of the DIP paper, to reproduce it",
    "sure": "denoising: the noisy image as the input, Stein's risk estimate (photon noise: on its Anscombe transform)",
    "drp": "denoising: two light networks fitted with their codes, 300 iterations; smooths fine texture",
    "unet": "denoising with a U-Net (the paper's comparison)",
    "resnet": "denoising with a ResNet (the paper's comparison)",
    "deep_decoder": "denoising with a Deep Decoder (under-parameterised, cheap iterations)",
    "large_hole_deep": "inpainting of large holes with the paper's deeper network",
}
#: The presets each task offers by name, the default first (other keys of PRESETS are accepted too).
TASK_PRESET_CHOICES = {
    "denoise": ("auto", "fast", "paper", "sure", "drp", "unet", "resnet", "deep_decoder"),
    "inpaint": ("auto", "fast", "paper", "large_hole_deep"),
}


def preset_choices(task: str) -> tuple[str, ...]:
    """The presets ``task`` offers by name, the default first."""
    return TASK_PRESET_CHOICES.get(task, (AUTO, *CASE_PRESETS))


#: Inpainting kinds and the task of each (the paper's cases).
INPAINT_KINDS = {"text": "inpaint_text", "hole": "inpaint_hole", "sparse": "inpaint_sparse"}
#: Super-resolution factors from this one on use the paper's x8 case.
SR8_FROM = 8


def paper_key(task: str, *, factor: int = 1, kind: str | None = None) -> str:
    """The key in :data:`PRESETS` of the paper's case for ``task``, ``factor`` and inpainting ``kind``.

    ``task`` is a task name ("super_resolution", "inpaint", ...) or a key of
    :data:`TASK_PRESETS`; ``kind`` ("text", "hole", "sparse") only matters for
    "inpaint" (default "text"), ``factor`` only for "super_resolution".
    """
    if task == "inpaint":
        task = INPAINT_KINDS[check.choice("kind", "text" if kind is None else kind, INPAINT_KINDS)]
    if task == "super_resolution":
        factor = check.whole_number("factor", factor, 2, why="super-resolution needs")
        return "sr8" if factor >= SR8_FROM else "sr4"
    if task not in TASK_PRESETS:
        raise ValueError(f"Unknown task {task!r}: choose one of inpaint, {', '.join(TASK_PRESETS)}.")
    return TASK_PRESETS[task]


def task_preset(task: str, *, factor: int = 1, kind: str | None = None, preset: str | Preset = "fast") -> Preset:
    """The settings of ``task`` (for ``factor`` and inpainting ``kind``) in ``preset``.

    ``preset`` is ``"fast"`` (the case with a lighter network and the changes of :data:`FAST_CHANGES`),
    ``"paper"`` (the paper's case, for reproducing it), any key of :data:`PRESETS` (used as is) or a
    :class:`Preset`; ``"auto"`` is resolved to one of these first
    (:func:`~napari_dip.core.tasks.preset_choice.choose_preset`). Bad values raise ValueError naming the parameter.
    """
    if isinstance(preset, Preset):
        return preset
    if not isinstance(preset, str):
        raise ValueError(f"preset={preset!r}: use 'auto' (the default), 'paper', 'fast', one of {', '.join(PRESETS)} "
                         "or a Preset.")
    if preset in CASE_PRESETS:
        return case_preset(paper_key(task, factor=factor, kind=kind), preset)
    if preset in PRESETS:
        return PRESETS[preset]
    raise ValueError(f"Unknown preset {preset!r}: use 'auto' (the default), 'paper', 'fast' or one of "
                     f"{', '.join(PRESETS)}.")


def case_preset(key: str, preset: str = "fast") -> Preset:
    """The ``"paper"`` or ``"fast"`` settings of the paper case ``key`` (a key of :data:`PRESETS`)."""
    base = PRESETS[key]
    if preset == "paper":
        return base
    skips = FAST_NET.skip if any(base.network.skip) else (0,) * len(FAST_NET.down)
    network = replace(FAST_NET, skip=skips, upsample=base.network.upsample, padding=base.network.padding)
    return replace(base, network=network, **FAST_CHANGES.get(key, {}))

