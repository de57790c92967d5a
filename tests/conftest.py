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
    from facemask.inference import FaceMasker
    return FaceMasker.from_pretrained(device='cpu')

@pytest.fixture(scope='session')
def hopper():
    from facemask.core import read_image
    return read_image(REPO/'examples'/'grace_hopper.jpg')
