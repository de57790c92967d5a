"""Open in Colab, Run all: the notebooks run outside the checkout, with no ../shared beside them, their data only under
$FACEMASK_DATA, laid out as the download cells leave it; they draw their figures, and a cell whose data is missing says
so in one line."""
import configparser, json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import REPO, SHARED, needs_shared

SETTINGS = configparser.ConfigParser(); SETTINGS.read(REPO/'settings.ini')
TST_FLAGS = SETTINGS['DEFAULT']['tst_flags']  # cells flagged with one of these are skipped, as nbdev_test skips them
FACE_IDS = [*range(30), 42]  # the faces the notebooks show and prepare

# Executes a notebook as nbdev_test does (skipping `eval: false` cells and those flagged with a tst_flag) and saves its outputs.
RUN = '''
import sys
from pathlib import Path
from execnb.nbio import write_nb
from execnb.shell import CaptureShell
from nbdev.frontmatter import FrontmatterProc
from nbdev.process import NBProcessor
src, dest, flags = Path(sys.argv[1]), sys.argv[2], set(sys.argv[3].split())
nb = NBProcessor(src, procs=FrontmatterProc, process=True).nb
def skip(cell):
    d = getattr(cell, 'directives_', {}) or {}
    return cell.cell_type != 'code' or d.get('eval:', [''])[0].lower() == 'false' or bool(flags & d.keys())
shell = CaptureShell(src)
try: shell.run_all(nb, exc_stop=True, preproc=skip)
except BaseException: sys.exit(shell.prettytb(fname=src))
finally: write_nb(nb, dest)
'''

def link(src, dest):
    dest.parent.mkdir(parents=True, exist_ok=True); dest.symlink_to(src)

def downloaded_root(root):
    "A data root as the download cells leave it: CelebAMask-HQ/ in the official layout (a few shared faces) and hands/, no-face/."
    mini = SHARED/'CelebAMask-HQ-mini'
    for i in FACE_IDS: link(mini/'CelebA-HQ-img'/f'{i}.jpg', root/'CelebAMask-HQ'/'CelebA-HQ-img'/f'{i}.jpg')
    for part in (mini/'CelebAMask-HQ-mask-anno'/'0').iterdir():
        if int(part.name[:5]) in FACE_IDS: link(part, root/'CelebAMask-HQ'/'CelebAMask-HQ-mask-anno'/'0'/part.name)
    for folder in ('images', 'masks'): link(SHARED/'hands'/folder, root/'hands'/folder)
    link(SHARED/'no-face'/'images', root/'no-face'/'images')
    return root

def run_all(name, root, tmp):
    "Execute nbs/`name`.ipynb from a copy in `tmp`/nbs with FACEMASK_DATA=`root`; returns the executed notebook."
    nbs, out = tmp/'nbs', tmp/f'{name}.out.ipynb'
    nbs.mkdir(exist_ok=True); shutil.copy(REPO/'nbs'/f'{name}.ipynb', nbs)
    assert not (tmp/'shared').exists() and not (tmp.parent/'shared').exists()
    env = {**os.environ, 'FACEMASK_DATA': str(root), 'IN_TEST': '1'}
    r = subprocess.run([sys.executable, '-c', RUN, nbs/f'{name}.ipynb', out, TST_FLAGS], cwd=nbs, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f'{name}: ' + r.stderr[-6000:]
    return json.loads(out.read_text())

def outputs(nb, kind):
    "Per executed code cell, (source, the outputs of that kind: stdout text or image/png)."
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        if kind == 'stdout': yield ''.join(c['source']), ''.join(''.join(o['text']) for o in c['outputs'] if o.get('name') == 'stdout')
        else: yield ''.join(c['source']), [o for o in c['outputs'] if kind in o.get('data', {})]

def figures(nb): return sum(len(imgs) for _, imgs in outputs(nb, 'image/png'))
def missing_lines(text, root): return [l for l in text.splitlines() if l.startswith(f'no {root}')]

@needs_shared
@pytest.mark.parametrize('name, n_figures', [('00_data', 2), ('01_hands', 5), ('04_evaluation', 1)])
def test_run_all_with_downloaded_data_draws_the_figures(tmp_path, name, n_figures):
    root = downloaded_root(tmp_path/'data')
    nb = run_all(name, root, tmp_path)
    assert figures(nb) >= n_figures
    said = [l for _, text in outputs(nb, 'stdout') for l in missing_lines(text, root)]
    assert all('multipose' in l for l in said), said  # turned heads are the only data not downloaded here

@pytest.mark.parametrize('name', ['00_data', '01_hands'])
def test_run_all_without_data_says_what_to_run(tmp_path, name):
    (tmp_path/'data').mkdir()
    nb = run_all(name, tmp_path/'data', tmp_path)
    assert figures(nb) == 0
    cells = [(source, missing_lines(text, tmp_path/'data')) for source, text in outputs(nb, 'stdout') if source.startswith('if have_data(')]
    assert cells and all(len(said) == 1 for _, said in cells), cells
    said = '\n'.join(l for _, lines in cells for l in lines)
    assert {'00_data': 'download_celebamask_hq', '01_hands': 'download_egohands'}[name] in said
