"""task=fit: the samples, the image grid and the baselines are checked against a memory estimate at validation;
a picture is sized from its header (never decoded at validation) and refused above a pixel limit before any
pixel is decoded (issue 16)."""
import struct
import zlib

import numpy as np
import pytest

from physics.functions import image_header, load_image, max_image_pixels


def write_png_header(path, width, height):
    """A PNG whose header claims ``width x height`` grey pixels, with one tiny (wrong) data chunk: enough for
    Pillow to read its size and check its chunks, never enough to decode."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_huge_n_samples_is_refused_naming_it(refused):
    error = refused(["task=fit", "task.n_samples=1000000000"])  # once 14.9 GiB
    assert error.key == "task.n_samples" and "GB" in error.message


def test_the_kernel_matrix_of_a_baseline_counts(refused, compose_config):
    error = refused(["task=fit", "task.n_samples=200000"])
    assert error.key == "task.n_samples" and "baseline.kernel_ridge" in error.message
    compose_config(["task=fit", "task.n_samples=200000", "baseline=none"])  # the samples alone fit


def test_huge_image_size_is_refused_naming_it(refused):
    assert refused(["task=fit", "task.target=smiley", "task.image_size=100000"]).key == "task.image_size"


@pytest.mark.parametrize("side", [20000, 10000])  # beyond Pillow's own bomb limit, and between its two limits
def test_huge_image_is_refused_from_its_header(refused, tmp_path, monkeypatch, side):
    path = write_png_header(tmp_path / "huge.png", side, side)  # a 20000 x 20000 PNG once decoded twice, 4.9 GB
    import matplotlib.image

    monkeypatch.setattr(matplotlib.image, "imread", lambda *a, **k: pytest.fail("decoded"))
    error = refused(["task=fit", "task.target=image", f"task.image_path={path}"])
    assert error.key == "task.image_path" and "pixels" in error.message and "downscale" in error.message
    with pytest.raises(ValueError, match="pixels"):
        load_image(path, 16)  # the API refuses it before decoding too


def test_header_reports_size_and_mode_without_decoding(tmp_path):
    header = image_header(write_png_header(tmp_path / "a.png", 300, 200))
    assert (header.width, header.height, header.mode, header.format) == (300, 200, "L", "PNG")
    assert header.decode_bytes == 300 * 200 * 13
    assert max_image_pixels() >= 89_000_000


def test_a_jpeg_named_png_is_refused_at_validation(compose_config, tmp_path):
    from PIL import Image

    from physics.app.schema import ConfigError

    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(path, format="JPEG")
    with pytest.raises(ConfigError, match="JPEG"):
        compose_config(["task=fit", "task.target=image", f"task.image_path={path}"])


def test_validation_reads_the_header_only_and_the_image_decodes(compose_config, tmp_path, monkeypatch):
    import matplotlib.image

    path = tmp_path / "picture.png"
    matplotlib.image.imsave(path, np.linspace(0, 1, 400).reshape(20, 20), cmap="gray")
    decoded = []
    original = matplotlib.image.imread
    monkeypatch.setattr(matplotlib.image, "imread", lambda *a, **k: decoded.append(a) or original(*a, **k))
    compose_config(["task=fit", "task.target=image", f"task.image_path={path}"])
    assert decoded == []  # the task decodes it, once
    image = load_image(path, 8)
    assert len(decoded) == 1 and image.shape == (8, 8) and 0 <= image.min() < image.max() <= 1
