"Every notebook runs top to bottom at test sizes (cells flagged slow/gpu/download/notest are skipped)."
import subprocess, sys
from pathlib import Path
import pytest

NBS = sorted((Path(__file__).resolve().parents[1]/'nbs').glob('[0-9]*.ipynb'))

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_test'), '--path', str(nb)], capture_output=True, text=True, cwd=nb.parent)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
