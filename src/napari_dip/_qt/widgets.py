"""The six restoration widgets: each declares its task and adds its own inputs to :class:`TaskWidget`."""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FloatSpinBox, Label, PushButton, SpinBox, Widget
from napari.layers import Image, Labels
from napari.utils.notifications import show_error

from napari_dip._qt.base import TaskWidget
from napari_dip._qt.controls import layer_picker
from napari_dip.core.validation import InputError
from napari_dip.gui.layers import SliceSource, channel_axis, companion, image_shape, leading_shape
from napari_dip.gui.masks import default_range, mask_from_intensities, new_mask
from napari_dip.gui.session import OutputSpec


class DenoiseWidget(TaskWidget):
    task = "denoise"
    outputs = (OutputSpec("denoised"),)
    help_text = "Blind denoising. Watch the preview; press Stop when it looks clean (the result is kept)."

    def __init__(self, napari_viewer: Any, parent: Any = None):
        super().__init__(napari_viewer, parent)
        self.form.insert(self.form.index(self.fit.preset) + 1, self.auto_note)  # under the preset it explains
        self.slices.changed.connect(self._show_context)
        self.slices.changed.connect(lambda *_: self.refresh_preset())
        self._show_context()

    def _task_widgets(self) -> list[Widget]:
        from napari_dip.core.inputs.volumes import OUTPUT_DTYPES
        from napari_dip.core.physics.noise import NOISE_MODELS

        self.noise = ComboBox(label="noise", choices=NOISE_MODELS, value=NOISE_MODELS[0],
                              tooltip="poisson: photon-limited images (fluorescence, low light); the camera's gain "
                                      "and read noise are estimated from the image.")
        self.holdout = FloatSpinBox(
            label="hold-out", min=0.0, max=0.5, step=0.01, value=0.0,
            tooltip="Share of the pixels left out of the fit for the automatic stop, which then ends the fit where "
                    "their error is lowest: robust on fine texture, a little lower elsewhere. 0: the outputs' "
                    "variance decides.",
        )
        self.auto_note = Label(label="auto picks", tooltip="The preset 'auto' runs for this image, and why.")
        self.classic = self._classic_choice()
        self.output_dtype = ComboBox(
            label="output dtype", choices=OUTPUT_DTYPES, value="input",
            tooltip="input: the result has the layer's dtype. float32: an integer layer's estimate unrounded, in "
                    "the same units (dim 16-bit images of a few counts lose detail to rounding).")
        from napari_dip.core.tasks.windows import AUTO_CONTEXT

        self.context = SpinBox(
            label="neighbours", min=0, max=5, value=AUTO_CONTEXT,
            tooltip="Stacks restored slice by slice: each slice is fitted together with this many neighbouring "
                    "slices on each side, which share its structure but not its noise; 0: every slice alone.")
        self.noise.changed.connect(lambda *_: self.refresh_preset())
        self.classic.changed.connect(lambda *_: self.refresh_preset())
        self.context.changed.connect(lambda *_: self.refresh_preset())
        return [self.noise, self.classic, self.output_dtype, self.holdout, self.context]

    @staticmethod
    def _classic_choice() -> ComboBox:
        """'average with': none, or BM3D where the optional package is installed."""
        from napari_dip.core.extras.classic import bm3d_available
        from napari_dip.core.extras.classic_blend import CLASSIC_BLENDS

        available = bm3d_available()
        tooltip = ("bm3d: fit preset 'sure' and average its result with BM3D's; the DIP share is chosen from "
                   "held-out pixels and recorded in the layer's metadata (0 where BM3D alone is better). With "
                   "noise 'poisson' both work on the Anscombe transform, where photon noise is even."
                   if available else "Averaging with BM3D needs the optional bm3d package: pip install bm3d.")
        return ComboBox(label="average with", choices=("none", *CLASSIC_BLENDS), value="none", tooltip=tooltip,
                        enabled=available)

    @property
    def classic_method(self) -> str | None:
        """The classic method the result is averaged with (None: the fit alone)."""
        return None if self.classic.value == "none" else self.classic.value

    def _on_image_changed(self, *_: Any) -> None:
        super()._on_image_changed()
        self._show_context()
        self.refresh_preset()

    @property
    def neighbours(self) -> int:
        """The slices on each side fitted with each slice (0 where *neighbours* does not apply)."""
        return int(self.context.value) if self.context.enabled else 0

    def _show_context(self, *_: Any) -> None:
        """*neighbours* applies to a stack restored slice by slice (mode *all slices*) only."""
        from napari_dip.gui.form import SLICE_MODES

        self.context.enabled = self.slices.enabled and self.slices.value == SLICE_MODES[1]

    def _compare_methods(self) -> tuple[str, ...]:
        from napari_dip.core.extras.classic import methods_for

        return methods_for(self.task, noise=self.noise.value)

    def _choice_options(self) -> dict[str, Any]:
        """The chosen 2D layer as the image "auto" picks for (a stack's slices share the fast preset's network)."""
        from napari_dip.core.inputs.volumes import read_input

        image = self.image.value
        given = {"noise": self.noise.value, "options": {"classic": self.classic_method, "context": self.neighbours}}
        if image is None or leading_shape(image):
            return {**given, "stack": image is not None}
        try:
            target, info = read_input(np.asarray(image.data), channel_axis(image), 2)
        except ValueError:  # refused with its message when Run is pressed
            return given
        return {**given, "target": target, "dtype": info.dtype}

    def _preset_shown(self, choice: Any) -> None:
        auto = self.fit.preset.value == "auto"
        self.auto_note.visible = auto
        self.auto_note.value = f"{choice.name} ({choice.reason or 'the fast settings'})" if auto else ""
        self.holdout.value = choice.settings.holdout

    def _task_kwargs(self) -> dict[str, Any]:
        return {"noise": self.noise.value, "holdout": float(self.holdout.value), "classic": self.classic_method,
                "output_dtype": self.output_dtype.value, "context": self.neighbours}

    def _task_metadata(self) -> dict[str, Any]:
        reason = self._shown_choice.reason if self._shown_choice is not None else None
        return {"auto_preset": reason} if self.fit.preset.value == "auto" and reason else {}


class JpegWidget(TaskWidget):
    task = "jpeg"
    outputs = (OutputSpec("restored"),)
    help_text = "Removes JPEG blocks and ringing (blind restoration). Stop before the artefacts come back."


class SuperResolutionWidget(TaskWidget):
    task = "super_resolution"
    help_text = "Makes the image 'factor' times larger per side; the output overlays the input."

    def _task_widgets(self) -> list[Widget]:
        self.factor_box = SpinBox(label="factor", min=2, max=16, value=4)
        self.factor_box.changed.connect(lambda *_: self.refresh_preset(force=True))
        return [self.factor_box]

    @property
    def factor(self) -> int:
        return int(self.factor_box.value)

    def _choice_options(self) -> dict[str, Any]:
        return {"factor": self.factor}

    def _outputs(self) -> tuple[OutputSpec, ...]:
        return (OutputSpec(f"super-resolved x{self.factor}"),)

    def _task_kwargs(self) -> dict[str, Any]:
        return {"factor": self.factor}


class InpaintWidget(TaskWidget):
    task = "inpaint"
    outputs = (OutputSpec("inpainted"),)
    help_text = "Fills the pixels painted in the mask (any label > 0) from the rest of the image."

    def _task_widgets(self) -> list[Widget]:
        self.mask = layer_picker(self.viewer, Labels, "mask (labels)",
                                 tooltip="Labels layer of the image's size; painted pixels (label > 0) are filled.")
        from napari_dip.core.tasks.presets import INPAINT_KINDS

        self.kind = ComboBox(label="kind", choices=tuple(INPAINT_KINDS), value="text",
                             tooltip="text: thin strokes; hole: large regions; sparse: most pixels missing.")
        self.kind.changed.connect(lambda *_: self.refresh_preset(force=True))
        from napari_dip.core.fitting.regions import REGIONS

        shown = {"mask": "around the mask", "whole": "whole image"}
        self.region = ComboBox(label="fit", choices=[(shown[name], name) for name in REGIONS], value="mask",
                               tooltip="around the mask: only the painted pixels change, and the cost follows "
                                       "the mask's size; whole image: the paper's way.")
        self.classic = ComboBox(label="average with", choices=[("biharmonic", "auto"), ("none", "none")],
                                value="auto", tooltip="biharmonic: average each region's fill with biharmonic "
                                "inpainting, the DIP share chosen on known pixels held out like the mask (around "
                                "the mask, with auto-stop); none: the fit alone.")
        self.new_mask_button = PushButton(text="New mask", tooltip="An empty Labels layer over the image, "
                                          "with the paint brush ready: paint the pixels to fill.")
        self.valid_low = FloatSpinBox(label="valid from", min=-1e12, max=1e12, step=1)
        self.valid_high = FloatSpinBox(label="to", min=-1e12, max=1e12, step=1)
        self.intensity_button = PushButton(text="Mask from intensities", tooltip="Marks the pixels outside the "
                                           "valid range (dead or saturated pixels) as missing; touch up with the brush.")
        self.new_mask_button.changed.connect(self._on_new_mask)
        self.intensity_button.changed.connect(self._on_mask_from_intensities)
        self._range_for: Any = None  # the layer the valid range was proposed for
        masks = Container(widgets=[self.new_mask_button, self.valid_low, self.valid_high, self.intensity_button],
                          labels=True)
        return [self.mask, self.kind, self.region, self.classic, masks]

    def _on_image_changed(self, *_: Any) -> None:
        """Propose the chosen image's valid range (also when the widget opens on an image already loaded)."""
        super()._on_image_changed()
        image = self.image.value
        if image is not None and image is not self._range_for:
            self.valid_low.value, self.valid_high.value = default_range(image)
        self._range_for = image

    def _make_mask(self, make: Any, *args: Any) -> None:
        try:
            labels = make(self.viewer, self.image.value, *args)
        except ValueError as exc:
            show_error(str(exc))
            return
        self.mask.value = labels

    def _on_new_mask(self, *_: Any) -> None:
        self._make_mask(new_mask)

    def _on_mask_from_intensities(self, *_: Any) -> None:
        self._make_mask(mask_from_intensities, float(self.valid_low.value), float(self.valid_high.value))

    def _choice_options(self) -> dict[str, Any]:
        return {"kind": self.kind.value}

    def _task_inputs(self, image: Any) -> list[SliceSource]:
        mask = self.mask.value
        if mask is None:
            raise InputError(
                "Choose a Labels layer as the mask: with the image selected, add a new Labels layer "
                "(layer list button) and paint the pixels to fill with any label > 0."
            )
        fix = "paint the mask on a Labels layer created over this image, so it has the image's size."
        return [companion(mask, image, image_shape(image)[:2], "mask", fix, as_mask=True)]

    def _task_kwargs(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "region": self.region.value,
                "classic": None if self.classic.value == "none" else self.classic.value}

    def _task_metadata(self) -> dict[str, Any]:
        return {"mask": self.mask.value.name}


class EnhanceWidget(TaskWidget):
    task = "enhance"
    outputs = (
        OutputSpec("coarse", visible=False),
        OutputSpec("fine", like_source=False, visible=False),
        OutputSpec("enhanced"),
    )
    help_text = ("Detail enhancement: a coarse fit (fewer iterations = coarser) and the detail it leaves out "
                 "are added back. Outputs: coarse, fine and enhanced layers.")


class FlashWidget(TaskWidget):
    task = "flash"
    outputs = (OutputSpec("flash-guided"),)
    image_label = "no-flash image"
    help_text = "Restores a noisy no-flash photo using an aligned flash photo of the scene as the network input."

    def _task_widgets(self) -> list[Widget]:
        self.flash = layer_picker(self.viewer, Image, "flash image")
        self.image.changed.connect(self._pick_other_flash)
        return [self.flash]

    def reset_choices(self, *args: Any) -> None:
        super().reset_choices(*args)
        self._pick_other_flash()

    def _pick_other_flash(self, *_: Any) -> None:
        """Avoid proposing the no-flash image as its own flash image."""
        if self._lifeline.alive and self.flash.value is self.image.value:
            others = [layer for layer in self.flash.choices if layer is not self.image.value]
            if others:
                self.flash.value = others[0]

    def _task_inputs(self, image: Any) -> list[SliceSource]:
        flash = self.flash.value
        if flash is None:
            raise InputError("Choose the flash image: an aligned flash photo of the same scene and size.")
        if flash is image:
            raise InputError(
                f"'{image.name}' is chosen as both the no-flash and the flash image: "
                "choose the flash photo of the scene as 'flash image'."
            )
        fix = "choose a flash photo aligned with the no-flash one, of the same size and channels."
        return [companion(flash, image, image_shape(image), "flash image", fix)]

    def _task_metadata(self) -> dict[str, Any]:
        return {"flash": self.flash.value.name}
