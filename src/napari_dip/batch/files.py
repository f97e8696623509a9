"""Image files for the command line: reading, writing, batches and output names.

PNG and JPEG go through Pillow (imageio's plugin for reading), TIFF through
:mod:`tifffile` (16-bit, float and stacks); bool images are read and written
as 1-bit PNG and bool TIFF. Outputs record the settings that made them (TIFF
metadata, a PNG text chunk, a JPEG comment). A file is read into an
:class:`ImageFile`: the
array in the layout ``(*slices, Y, X[, C])`` (channels last, if any) and the
number of leading slice axes, so a 3D TIFF stack is restored slice by slice
and written back as a stack of the same dtype, atomically (a temporary file
renamed into place). Every problem with a user's file or output location
raises :class:`InputError` with a message naming the file and the fix.
This module never imports napari, Qt or torch.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_dip.core.validation import InputError

#: File suffixes read and written, by format.
FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
#: The suffix written for each ``--format`` choice.
FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "tif": ".tif"}


@dataclass
class ImageFile:
    """An image (or a stack of images) as read from a file.

    ``data`` has the layout ``(*slices, Y, X)`` or ``(*slices, Y, X, C)``;
    ``slice_ndim`` counts the leading slice axes (0 for a single image) and
    ``channel_axis`` is the channel axis of one slice (None for grey).
    """

    path: Path
    data: np.ndarray
    slice_ndim: int = 0
    channel_axis: int | None = None
    planar: bool = False  # a planar RGB TIFF, read as slices (as napari shows it): outputs are written the same way

    @property
    def slice_shape(self) -> tuple[int, ...]:
        return self.data.shape[: self.slice_ndim]

    @property
    def yx(self) -> tuple[int, int]:
        start = self.slice_ndim
        return self.data.shape[start], self.data.shape[start + 1]

    def slices(self) -> list[tuple[int, ...]]:
        """Index tuples of the 2D slices (one empty tuple for a single image)."""
        return list(np.ndindex(*self.slice_shape))


def image_format(path: Path) -> str:
    """The format of ``path`` from its suffix; InputError for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unsupported file type {path.suffix!r}: use PNG, JPEG or TIFF (.png, .jpg, .tif).")
    return fmt


def _png_is_16bit_colour(path: Path) -> bool:
    with open(path, "rb") as handle:
        header = handle.read(26)
    return len(header) == 26 and header[24] == 16 and header[25] in (2, 4, 6)


def _read_tiff(path: Path) -> ImageFile:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series
        shapes = {(s.shape, s.axes, str(s.dtype)) for s in series}
        if len(shapes) > 1:  # e.g. pages appended one by one with different sizes: never restore only the first
            sizes = ", ".join(dict.fromkeys("x".join(map(str, s.shape)) for s in series))
            raise InputError(f"{path} holds {len(series)} pages of different sizes or types ({sizes}): "
                             "save each size as its own file (or pages of one size and dtype as a stack).")
        data, axes = series[0].asarray(), series[0].axes
        if len(series) > 1:  # pages of one size stored as separate series: a stack
            data, axes = np.stack([data, *(s.asarray() for s in series[1:])]), "Q" + axes
    if "S" in axes and axes.index("S") < axes.index("Y"):
        # Samples before Y and X: tifffile's default for a stack of 3 or 4 slices, and planar RGB. Read as slices,
        # as napari shows them, and written back as they came.
        return ImageFile(path, data, data.ndim - 2, None, planar=True)
    if "S" in axes:  # samples last: colour
        return ImageFile(path, data, data.ndim - 3, 2)
    if data.ndim == 3 and data.shape[-1] in (3, 4) and not axes.endswith("YX"):
        return ImageFile(path, data, 0, 2)
    return ImageFile(path, data, data.ndim - 2, None)


def read_image(path: str | Path) -> ImageFile:
    """Read a PNG, JPEG or TIFF file, keeping its dtype."""
    path = Path(path)
    fmt = image_format(path)
    if not path.is_file():
        if path.exists():
            raise InputError(f"{path} is not a regular file (a folder, pipe or device): give an image file.")
        raise InputError(f"{path}: no such file: check the path.")
    try:
        if fmt == "tiff":
            image = _read_tiff(path)
        else:
            import imageio.v3 as iio

            if fmt == "png" and _png_is_16bit_colour(path):
                warnings.warn(
                    f"{path} is a 16-bit colour PNG, read as 8-bit: save it as a 16-bit TIFF to keep the precision.",
                    stacklevel=2,
                )
            data = np.asarray(iio.imread(path, plugin="pillow"))  # Pillow only: no guessing among formats
            image = ImageFile(path, data, 0, None if data.ndim == 2 else 2)
    except InputError:
        raise
    except Exception as exc:  # any decoder error: the file is not what its name says
        reason = (str(exc).strip().splitlines() or [""])[0].rstrip(".")
        message = f"{path}: cannot read the image ({type(exc).__name__}: {reason}): is it a valid {fmt} file?"
        raise InputError(message) from exc
    if image.data.ndim - image.slice_ndim not in (2, 3) or image.data.size == 0:
        raise InputError(f"{path}: cannot use an image of shape {image.data.shape}: expected 2D images (and stacks).")
    return image


def read_mask(path: str | Path, known: bool = False) -> ImageFile:
    """Read an inpainting mask as booleans, True = missing pixel.

    By default non-zero pixels are the missing ones (as painted in a napari
    Labels layer); with ``known=True`` non-zero pixels are the known ones (the
    convention of the Deep Image Prior repository's ``*_mask.png`` files).
    Colour masks count a pixel as non-zero when any colour channel is.
    """
    mask = read_image(path)
    data = mask.data
    if mask.channel_axis is not None:
        data = np.any(data[..., :3] != 0, axis=-1)
    nonzero = data != 0
    return ImageFile(mask.path, ~nonzero if known else nonzero, mask.slice_ndim, None)


def check_writable(path: Path, dtype: np.dtype, colour: bool, stack: bool) -> None:
    """Raise InputError when ``path``'s format cannot hold such an image (checked before fitting)."""
    fmt = image_format(path)
    if fmt == "tiff":
        return
    if stack:
        raise InputError(f"{path}: a stack of images cannot be written as {fmt.upper()}: write a .tif file.")
    if dtype == bool and (fmt == "jpeg" or colour):
        raise InputError(f"{path}: {fmt.upper()} cannot hold {'colour ' if colour else ''}bool pixels: "
                         "write a PNG or TIFF file (TIFF for colour) to keep them.")
    allowed = (np.uint8,) if fmt == "jpeg" else (np.uint8, np.uint16, bool)
    if dtype not in allowed or (fmt == "png" and dtype == np.uint16 and colour):
        raise InputError(
            f"{path}: {fmt.upper()} cannot hold {'colour ' if colour else ''}{np.dtype(dtype)} pixels: "
            "write a .tif file (or pass --format tif) to keep the dtype."
        )


def atomic_write(path: Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer`` on a temporary name next to ``path``, then rename it into place.

    A killed process or a failed write never leaves a partial ``path``: either
    the old file (if any) or the complete new one is there, and the temporary
    file is removed on any error. An OSError becomes an InputError naming the file.
    """
    temp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.part{path.suffix}")
    try:
        writer(temp)
        os.replace(temp, path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot write {path} ({reason}): free some space or choose another -o.") from exc
    finally:
        temp.unlink(missing_ok=True)


SETTINGS_KEY = "napari_dip"


def settings_text(settings: dict) -> str:
    """``settings`` as the JSON text an output file records (numpy values as plain numbers and lists)."""
    def plain(value: object) -> object:
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
        return str(value)

    return json.dumps({SETTINGS_KEY: settings}, default=plain)


def _write_tiff(temp: Path, data: np.ndarray, colour: bool, planar: bool, settings: dict | None) -> None:
    import tifffile

    channels = data.shape[-1] if colour else 0
    metadata = None if settings is None else json.loads(settings_text(settings))
    if planar and not colour and data.ndim >= 3 and data.shape[-3] in (3, 4):  # as it came: samples before Y and X
        tifffile.imwrite(temp, data, photometric="rgb", planarconfig="separate", metadata=metadata)
        return
    photometric = "rgb" if channels in (3, 4) else "minisblack"
    tifffile.imwrite(temp, data, photometric=photometric, metadata=metadata,
                     planarconfig="contig" if channels else None)


def _write_pil(temp: Path, data: np.ndarray, fmt: str, settings: dict | None, jpeg_quality: int) -> None:
    """PNG (8 or 16 bits, 1-bit for bool) or JPEG through Pillow, the settings in a text chunk or comment."""
    from PIL import Image, PngImagePlugin

    if data.dtype == np.uint16:
        image = Image.fromarray(data.astype(np.uint16), mode="I;16")
    else:
        image = Image.fromarray(data)
    text = None if settings is None else settings_text(settings)
    if fmt == "jpeg":
        image.save(temp, format="JPEG", quality=jpeg_quality, **({} if text is None else {"comment": text}))
        return
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_itxt(SETTINGS_KEY, text)
    image.save(temp, format="PNG", pnginfo=info)


def write_image(path: str | Path, data: np.ndarray, channel_axis: int | None, *, settings: dict | None = None,
                planar: bool = False, jpeg_quality: int = 95) -> None:
    """Write ``data`` (``(*slices, Y, X[, C])``) as PNG, JPEG or TIFF, keeping its dtype, atomically.

    ``settings`` are recorded in the file (TIFF metadata, a PNG text chunk, a JPEG comment), so ``--config`` can
    replay them; ``planar`` writes a colour TIFF with its samples before Y and X, as its input had them.
    """
    path = Path(path)
    colour = channel_axis is not None
    check_writable(path, data.dtype, colour, data.ndim > (3 if colour else 2))
    fmt = image_format(path)
    if fmt == "tiff":
        atomic_write(path, lambda temp: _write_tiff(temp, data, colour, planar, settings))
    else:
        atomic_write(path, lambda temp: _write_pil(temp, data, fmt, settings, jpeg_quality))


def recorded_settings(path: Path) -> dict | None:
    """The settings an image file written by :func:`write_image` records (None when it records none)."""
    fmt = image_format(path)
    if fmt == "tiff":
        import tifffile

        with tifffile.TiffFile(path) as tif:
            shaped = tif.shaped_metadata or ()
        return next((meta[SETTINGS_KEY] for meta in shaped if isinstance(meta.get(SETTINGS_KEY), dict)), None)
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(SETTINGS_KEY) if fmt == "png" else image.info.get("comment")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        settings = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return settings.get(SETTINGS_KEY) if isinstance(settings, dict) else None


def companion_slice(extra: ImageFile | None, image: ImageFile, index: tuple[int, ...], task: str) -> np.ndarray | None:
    """The slice of a mask (``task="inpaint"``) or flash image that goes with slice ``index`` of ``image``.

    ``extra`` may be one 2D image (used for every slice) or a stack with the
    same slices; any mismatch raises InputError naming both files.
    """
    if extra is None:
        return None
    what = "mask" if task == "inpaint" else "flash image"
    if extra.yx != image.yx:
        raise InputError(
            f"the {what} {extra.path} is {extra.yx[1]}x{extra.yx[0]} pixels but {image.path} is "
            f"{image.yx[1]}x{image.yx[0]}: pass a {what} of the image's size."
        )
    if task == "flash" and (extra.channel_axis is None) != (image.channel_axis is None):
        raise InputError(f"{extra.path} and {image.path} differ in colour / grey: pass a pair with the same channels.")
    if extra.slice_ndim == 0:
        return extra.data
    if extra.slice_shape != image.slice_shape:
        raise InputError(
            f"the {what} {extra.path} is a stack of shape {extra.slice_shape} but {image.path} has slices "
            f"{image.slice_shape}: pass one 2D {what} or a stack with the same slices."
        )
    return extra.data[index]


def read_settings(path: str | Path) -> dict:
    """The settings of a result: an output image that records them, a JSON file of ``TaskRun.settings``, or layer
    metadata holding them under "napari_dip"."""
    path = Path(path)
    if path.suffix.lower() in FORMATS:
        try:
            settings = recorded_settings(path)
        except OSError as exc:
            raise InputError(f"{path}: cannot read its settings ({exc}): pass an output of napari-dip or a JSON "
                             "settings file.") from exc
        if settings is None:
            raise InputError(f"{path} records no settings: pass an output of napari-dip or a JSON settings file.")
        return settings
    try:
        settings = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the settings ({exc.strerror}): check the path.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}): pass settings saved by the napari widgets.") from exc
    if isinstance(settings, dict) and isinstance(settings.get(SETTINGS_KEY), dict):
        settings = settings[SETTINGS_KEY]
    if not isinstance(settings, dict):
        raise InputError(f"{path}: expected a JSON object of settings, got {type(settings).__name__}.")
    return settings


def expand_inputs(patterns: list[str]) -> list[Path]:
    """Turn files, folders and glob patterns into a sorted-per-pattern list of image files."""
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
            if not files:
                raise InputError(f"{path}: the folder holds no PNG, JPEG or TIFF files.")
        elif path.exists():
            image_format(path)
            if not path.is_file():
                raise InputError(f"{path} is not a regular file (a pipe or device): give an image file.")
            files = [path]
        elif any(char in pattern for char in "*?["):
            files = sorted(Path(p) for p in glob.glob(pattern) if Path(p).suffix.lower() in FORMATS)
            if not files:
                raise InputError(f"{pattern}: the pattern matches no PNG, JPEG or TIFF files.")
        else:
            raise InputError(f"{path}: no such file or folder: check the path.")
        found += [f for f in files if f not in found]
    return found


def output_suffix(source: Path, fmt: str | None) -> str:
    """The output file suffix: ``--format`` if given, else the input's (PNG for JPEG inputs)."""
    if fmt is not None:
        return FORMAT_SUFFIX[fmt]
    return ".png" if FORMATS[source.suffix.lower()] == "jpeg" else source.suffix


def output_path(source: Path, out: str | Path | None, tag: str, fmt: str | None, single: bool) -> Path:
    """Where the result of ``source`` goes.

    With one input and ``out`` ending in an image suffix, ``out`` is the file;
    otherwise ``out`` (default: the input's folder) is a folder and the file is
    named after the input, e.g. ``cells_denoised.tif``. A new ``out`` with
    another suffix is refused unless it ends in a slash (``out.v2/``).
    """
    folder_named = isinstance(out, str) and out.endswith(("/", os.sep))
    target = None if out is None else Path(out)
    if target is not None and target.suffix and not folder_named and not target.is_dir():
        if target.suffix.lower() not in FORMATS:
            raise InputError(
                f"-o {out}: unsupported output file type {target.suffix!r}: name a .png, .jpg or .tif file, or end "
                f"a folder name with a slash ({out}/)."
            )
        if not single:
            raise InputError(f"-o {out}: several inputs need an output folder, not a file name.")
        return target
    folder = source.parent if target is None else target
    return folder / f"{source.stem}_{tag}{output_suffix(source, fmt)}"


def prepare_folder(folder: Path) -> None:
    """Create ``folder`` if needed and check that files can be written in it (InputError if not)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"-o {folder}: {existing} is a file, not a folder: choose a folder for -o.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"cannot write to {folder} ({exc.strerror or exc}): choose another -o.") from exc


def companion_path(output: Path, tag: str) -> Path:
    """A file next to ``output`` with ``_tag`` appended to its name (same suffix)."""
    return output.with_name(f"{output.stem}_{tag}{output.suffix}")


def check_outputs(paths: list[Path], inputs: list[Path] = ()) -> None:
    """Refuse an output that is one of the ``inputs``, two inputs written to the same file, and output names taken
    by folders."""
    sources = {source.resolve() for source in inputs}
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in sources:
            raise InputError(f"{path} is also an input: napari-dip never replaces its inputs; choose another -o.")
        resolved = path.resolve()
        if resolved in seen:
            raise InputError(f"{path}: two inputs would be written to the same file: rename one or use separate runs.")
        seen.add(resolved)
        if path.is_dir():
            raise InputError(f"{path} is a folder: choose another -o (or move the folder).")
