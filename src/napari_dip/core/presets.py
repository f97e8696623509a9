"""Named settings for every case of the paper (supplementary material, section 4).

A :class:`Preset` bundles the network, the code and the fitting defaults.
Each task has a paper preset; ``"fast"`` keeps a task's settings but swaps in
a lighter network for CPU users. :func:`resolve_preset` does that lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .networks import NetworkSpec


@dataclass(frozen=True)
class Preset:
    """Network, code and optimisation defaults for one case."""

    network: NetworkSpec
    code: str = "noise"  # "noise", "meshgrid" or "guide"
    code_channels: int = 32
    code_noise_std: float = 1 / 30  # sigma_p
    iterations: int = 1800
    lr: float = 0.01
    ema: float = 0.99  # gamma of the exponential moving average of outputs
    use_ema: bool = True  # return the EMA rather than the last output


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
    "flash": Preset(
        replace(PAPER_NET, upsample="nearest"), code="guide", code_noise_std=0.0, iterations=600, lr=0.1, use_ema=False
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


def resolve_preset(task: str, preset: str | Preset = "paper") -> Preset:
    """Return the preset for ``task``.

    ``"paper"`` gives the task's case from the paper, ``"fast"`` the same with
    a lighter network; any key of :data:`PRESETS` or a :class:`Preset` is used
    as is.
    """
    if isinstance(preset, Preset):
        return preset
    if task not in TASK_PRESETS:
        raise ValueError(f"Unknown task {task!r}: choose one of {', '.join(TASK_PRESETS)}.")
    base = PRESETS[TASK_PRESETS[task]]
    if preset == "paper":
        return base
    if preset == "fast":
        skips = FAST_NET.skip if any(base.network.skip) else (0,) * len(FAST_NET.down)
        network = replace(FAST_NET, skip=skips, upsample=base.network.upsample, padding=base.network.padding)
        return replace(base, network=network)
    if preset in PRESETS:
        return PRESETS[preset]
    raise ValueError(f"Unknown preset {preset!r}: use 'paper', 'fast' or one of {', '.join(PRESETS)}.")
