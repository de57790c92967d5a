"""How firm the face-presence decisions are: each view that `FaceMasker`'s presence head judges (the whole frame where a
region is too big for a sharper close-up, else each candidate region's close-up) scored as `FaceMasker` crops it and
again with every edge of the crop moved by up to --px pixels (--jitters times, seeded). A photo "flips" when some
jittered set of views gives a different verdict (any view passed: face pixels painted) than the exact one. Photos: every
photo of ../shared/data/no-face (split as configs/split_noface.json) and the 160 validation faces of CelebAMask-HQ-mini.
The first step of `FaceMasker._refine` only (photos under 1280 px have no tiles; the second look is left out).
Writes <out>.json and <out>.md (default benchmarks/reports/presence_jitter).

    python benchmarks/presence_jitter.py                       # the CPU default and the accurate model, ~15 min on 2 cores
    python benchmarks/presence_jitter.py fast=runs/x.onnx --jitters 4

A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'

def judged_views(masker, image):
    "The views whose presence score decides `image` in `FaceMasker`: the whole frame if a region is too big for a close-up, and each sharper region's box."
    from facemask.inference import _sharper, face_blobs
    probs, _ = masker._proba([image])
    H, W = probs[0].shape
    regions = face_blobs(probs[0], input_size=masker.model.config.input_size, speck=masker.speck)
    whole = [(0, 0, W, H)] if any(not _sharper(r, (H, W)) for r in regions) else []
    return whole + [box for box, _ in regions if _sharper((box, None), (H, W))]

def jittered(box, W, H, rng, px):
    "`box` with each edge moved by up to `px` pixels, kept inside the WxH frame and at least 8 px a side."
    x0, y0, x1, y1 = np.array(box) + rng.integers(-px, px + 1, 4)
    x0, y0 = max(0, min(x0, W - 8)), max(0, min(y0, H - 8))
    return int(x0), int(y0), int(min(W, max(x1, x0 + 8))), int(min(H, max(y1, y0 + 8)))

def verdicts(masker, image, jitters, px, seed):
    "Presence scores (views x 1 + `jitters`: the exact crop first) of the views that decide `image`."
    views = judged_views(masker, image)
    if not views: return np.zeros((0, jitters + 1))
    H, W = image.shape[:2]
    rng = np.random.default_rng(seed)
    boxes = [[v] + [jittered(v, W, H, rng, px) for _ in range(jitters)] for v in views]
    _, scores = masker._proba([image[y0:y1, x0:x1] for vs in boxes for x0, y0, x1, y1 in vs])
    return np.array(scores, float).reshape(len(views), jitters + 1)

def tally(scores, threshold, names):
    "Photos whose exact verdict is face, photos where some jittered verdict differs, and those photos with their score ranges."
    face = {n: (scores[n] >= threshold).any(0) for n in names}  # per jitter (the exact crop first): whether any view passed
    flips = [n for n in names if face[n].min() != face[n].max()]
    return {'photos': len(names), 'face_exact': sum(int(f[0]) for f in face.values()),
            'face_some_jitter': sum(int(f.any()) for f in face.values()), 'face_every_jitter': sum(int(f.all()) for f in face.values()),
            'flips': len(flips),
            'flipping': [[n, float(scores[n][:, 0].max()), float(scores[n].max(0).min()), float(scores[n].max(0).max())] for n in flips]}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('models', nargs='*', help='name=spec (default: the CPU default and the accurate model)')
    p.add_argument('--jitters', type=int, default=10); p.add_argument('--px', type=int, default=2)
    p.add_argument('--noface', default=str(SHARED/'no-face')); p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini'))
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/presence_jitter'))
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    from generalisation import parse_spec
    from noface_all import cpu_name, write_report
    from facemask.core import read_image
    from facemask.hands import noface_split
    from facemask.inference import FaceMasker, default_weights
    specs = dict(m.split('=', 1) for m in a.models) or {'cpu_default': str(default_weights(accurate=False)), 'accurate': str(default_weights(accurate=True))}
    train, val = noface_split(a.noface)
    faces = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val']
    images = {n: read_image(Path(a.noface)/'images'/n) for n in sorted(train + val)} | {f'face {i}': read_image(Path(a.data)/'CelebA-HQ-img'/f'{i}.jpg') for i in faces}
    rows, t0 = {}, time.time()
    for name, spec in specs.items():
        path, kwargs = parse_spec(spec)
        masker = FaceMasker.from_pretrained(path, device='cpu', **kwargs)
        scores = {n: verdicts(masker, im, a.jitters, a.px, seed=k) for k, (n, im) in enumerate(images.items())}
        threshold = masker.model.config.presence_threshold
        rows[name] = {'spec': spec, 'threshold': threshold, 'noface_val': tally(scores, threshold, val), 'noface_train': tally(scores, threshold, train),
                      'faces': tally(scores, threshold, [f'face {i}' for i in faces])}
        print(name, {k: (v['face_exact'], v['flips']) for k, v in rows[name].items() if isinstance(v, dict)}, f'{time.time() - t0:.0f} s', flush=True)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'minutes': round((time.time() - t0) / 60, 1),
           'jitters': a.jitters, 'px': a.px, 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(rep):
    sets = (('noface_val', 'no-face photos, validation split (held out)'), ('noface_train', 'no-face photos, training split'), ('faces', 'validation faces'))
    cell = lambda s: f"{s['face_exact']} / {s['face_some_jitter']} / {s['face_every_jitter']} of {s['photos']}; {s['flips']} flip"
    out = ['# How firm the face-presence decisions are\n',
           f"Measured {rep['date']} by `benchmarks/presence_jitter.py` in {rep['minutes']} min on {rep['hardware']}. Each view the presence head "
           f"judges in `FaceMasker`'s first step (the whole frame where a region is too big for a close-up, else each candidate region's close-up) "
           f"scored as cropped and {rep['jitters']} more times with every edge of the crop moved by up to {rep['px']} px (seeded). Data (research-only): "
           "the 457 photos of `../shared/data/no-face` split as `configs/split_noface.json`, and the 160 validation faces of CelebAMask-HQ-mini "
           "(`configs/split_celebamask_mini.json`).\n",
           'Models: ' + '; '.join(f"`{n}` = `{r['spec']}`" for n, r in rep['rows'].items()) + '.\n',
           'Each cell: photos with a view the head passes as cropped / with some jitter / with every jitter; photos whose verdict flips under jitter.\n',
           '| model | ' + ' | '.join(label for _, label in sets) + ' |', '|---|' + '---|' * len(sets)]
    out += [f"| {n} | " + ' | '.join(cell(r[k]) for k, _ in sets) + ' |' for n, r in rep['rows'].items()]
    out += ['\nPhotos that flip (highest score as cropped; over the jitters, the lowest and highest of the photo\'s best view):\n']
    for n, r in rep['rows'].items():
        for k, label in sets:
            if r[k]['flipping']:
                out.append(f"- {n}, {label}: " + ', '.join(f"{p.split('_', 1)[-1].rsplit('.', 1)[0]} {s:.2f} ({lo:.2f}-{hi:.2f})" for p, s, lo, hi in r[k]['flipping']))
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
