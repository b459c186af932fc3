"""A frame as pictures: its columns rendered, a grid of samples × columns as PNG bytes (Pillow), and
the same grid as a matplotlib figure with the column names and each sample's facts."""

import io

import numpy as np

from tb_saliency.rendering.render import as_rgb, render

# Tiles smaller than this are enlarged by an integer factor in the PNG, so a 28×28 digit stays visible.
_MIN_TILE = 96
_GAP = 2


def frame_columns(frame, **options):
    """[(title, N×H×W×3 uint8)]: the input (when the frame holds images), then each map, or for an
    activations frame each rank of its most active channels."""
    columns = [] if frame.images is None else [("input", as_rgb(frame.images))]
    if frame.activations is not None and not frame.maps:
        pictures = render(frame.images, frame.activations.values, **options)
        columns += [(f"{frame.activations.layer} #{k + 1}", pictures[:, k]) for k in range(pictures.shape[1])]
    for key, maps in frame.maps.items():
        columns.append((key, render(frame.images, maps, **options)))
    return columns


def grid_pixels(columns):
    """One picture of the grid: a row per sample, a column per entry, on white."""
    tiles = [pictures for _, pictures in columns]
    count = tiles[0].shape[0]
    height = max(t.shape[1] for t in tiles)
    width = max(t.shape[2] for t in tiles)
    factor = max(1, -(-_MIN_TILE // max(height, width)))
    height, width = height * factor, width * factor
    out = np.full((count * (height + _GAP) - _GAP, len(tiles) * (width + _GAP) - _GAP, 3), 255, np.uint8)
    for col, pictures in enumerate(tiles):
        for row in range(count):
            tile = pictures[row].repeat(factor, axis=0).repeat(factor, axis=1)
            top, left = row * (height + _GAP), col * (width + _GAP)
            out[top:top + tile.shape[0], left:left + tile.shape[1]] = tile
    return out


def png_bytes(pixels):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def sample_facts(frame, index):
    """A sample's known facts as short text: label, target, prediction (class names where logged), score."""
    names = frame.class_names

    def class_text(value):
        if value is None:
            return None
        return names[value] if 0 <= value < len(names) and names[value] else str(value)

    facts = [(name, class_text(None if values is None else values[index]))
             for name, values in (("label", frame.labels), ("target", frame.targets), ("pred", frame.predictions))]
    if frame.scores is not None and frame.scores[index] is not None:
        facts.append(("score", f"{frame.scores[index]:.3g}"))
    return " ".join(f"{name} {text}" for name, text in facts if text is not None)


def figure(frame, *, pyplot=False, **options):
    """A matplotlib Figure of samples × columns; made through pyplot (so that `pyplot.show` shows it)
    when `pyplot`, else a standalone one that no pyplot state keeps alive."""
    try:
        from matplotlib.figure import Figure
        if pyplot:
            from matplotlib import pyplot as plt
    except ImportError as error:
        raise ImportError("Frame.figure and Frame.show need matplotlib: pip install 'tb_saliency[plot]' "
                          "(or pip install matplotlib); Frame.save and Frame.render need only NumPy and Pillow") from error
    columns = frame_columns(frame, **options)
    count = columns[0][1].shape[0]
    size = (1.8 * len(columns), 1.9 * count + 0.4)
    fig = plt.figure(figsize=size, layout="constrained") if pyplot else Figure(figsize=size, layout="constrained")
    axes = np.asarray(fig.subplots(count, len(columns), squeeze=False))
    for col, (title, pictures) in enumerate(columns):
        for row in range(count):
            axis = axes[row, col]
            axis.imshow(pictures[row], interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(title, fontsize=9)
            if col == 0:
                axis.set_ylabel(f"{row}  {sample_facts(frame, row)}".strip(), fontsize=8)
    fig.suptitle(f"{frame.run} · {frame.tag} · step {frame.step}", fontsize=10)
    return fig
