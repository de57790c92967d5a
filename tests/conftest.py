import os, shutil, warnings
from pathlib import Path
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent/'shared'/'data'
os.environ.setdefault('WANDB_MODE', 'disabled')
os.environ.setdefault('MPLBACKEND', 'Agg')

needs_shared = pytest.mark.skipif(not (SHARED/'CelebAMask-HQ-mini').exists(), reason='../shared/data is not beside the checkout')

@pytest.fixture(scope='session')
def masker():
    "The default on a CPU: the shipped fast int8 model through ONNX Runtime."
    from facemask.inference import FaceMasker
    return FaceMasker.from_pretrained(device='cpu')

@pytest.fixture(scope='session')
def accurate():
    "The shipped float32 checkpoint through PyTorch."
    from facemask.inference import FaceMasker
    return FaceMasker.from_pretrained(device='cpu', accurate=True)

@pytest.fixture(scope='session')
def hopper():
    from facemask.core import read_image
    return read_image(REPO/'examples'/'grace_hopper.jpg')

def make_clip(path, image, seconds=1.2, rate=10, size=(160, 200), audio='aac'):
    "A clip panning down `image`, with a 440 Hz tone (`audio`: 'aac', 'pcm_s16le' for .mov, or None)."
    import av, cv2
    n = round(seconds * rate)
    with av.open(str(path), 'w') as c:
        v = c.add_stream('libx264', rate=rate); v.width, v.height = size
        v.pix_fmt = 'yuv420p' if size[0] % 2 == size[1] % 2 == 0 else 'yuv444p'  # odd sizes: no chroma subsampling
        a = c.add_stream(audio, rate=16000, layout='mono') if audio else None
        for k in range(n):
            y = k * (image.shape[0] // 12) // max(n, 1)
            f = av.VideoFrame.from_ndarray(cv2.resize(image[y:y + image.shape[0] * 9 // 10], size), format='rgb24'); f.pts = k
            c.mux(v.encode(f))
        c.mux(v.encode(None))
        if a:
            tone = np.sin(2 * np.pi * 440 * np.arange(int(16000 * seconds)) / 16000)
            fmt, tone = ('fltp', (0.3 * tone).astype(np.float32)) if audio == 'aac' else ('s16', (9000 * tone).astype(np.int16))
            for s in range(0, len(tone), 1024):
                f = av.AudioFrame.from_ndarray(tone[None, s:s + 1024], format=fmt, layout='mono'); f.sample_rate, f.pts = 16000, s
                c.mux(a.encode(f))
            c.mux(a.encode(None))
    return path

def pytest_configure(config):
    "Deprecation notes raised inside Gradio and Ray themselves, on every call: not ours to fix."
    for pattern in ("'future.no_silent_downcasting' is deprecated", 'The copy keyword is deprecated', '`use_push_based_shuffle` is deprecated', '`use_polars` is deprecated', '`use_arrow_tensor_v2` is deprecated'):
        config.addinivalue_line('filterwarnings', f'ignore:{pattern}')
