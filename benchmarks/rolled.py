"""Faces turned in the image plane (roll): a person lying down, a head tilted on a shoulder, a photo on its side whose
orientation tag was lost. Scores each model on the validation faces of CelebAMask-HQ-mini turned by 0 to 180 degrees
(the frame grown to hold the whole photo, its new corners filled from the photo's edge), and on the held-out photos
without a face turned on their side and upside down. Each model through `FaceMasker.predict` with its defaults; then
their time per upright 512x512 photo, side by side (each round visits every model on every photo in turn).
Writes <out>.json and <out>.md (default benchmarks/reports/rolled).

    python benchmarks/rolled.py                      # the accurate model and the CPU default
    python benchmarks/rolled.py roll=runs/generalisation/ft_all_turned_heads_roll/presence.pt
    python benchmarks/rolled.py --figure-only        # only rolled_examples.png: the example photo turned, the accurate
                                                     # model with and without any_angle

A spec is `path` or `path;key=value;...` (benchmarks/generalisation.py's): the pairs go to FaceMasker.from_pretrained.
A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, sys, time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'
ANGLES = (0, 15, 30, 45, 60, 90, 120, 150, 180)

def turn(image, degrees, mask=False):
    "`image` turned counter-clockwise by `degrees` in a frame grown to hold all of it: exact for multiples of 90; else new corners copy the edge (a mask's are 0)."
    k = degrees // 90
    if degrees % 90 == 0: return np.ascontiguousarray(np.rot90(image, k % 4))
    h, w = image.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(M[0, 0]), abs(M[0, 1])
    W, H = int(np.ceil(h * s + w * c)), int(np.ceil(h * c + w * s))
    M[:, 2] += (W - w) / 2, (H - h) / 2
    return cv2.warpAffine(image, M, (W, H), flags=cv2.INTER_NEAREST if mask else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT if mask else cv2.BORDER_REPLICATE)

def score_faces(masker, faces, truths):
    "Pooled IoU and the faces lost (under half of their truth called face) of `masker` on `faces`."
    inter = union = lost = 0
    for i in range(0, len(faces), 8):
        for pred, truth in zip(masker.predict(faces[i:i + 8]), truths[i:i + 8]):
            p, t = pred > 127, truth > 127
            hit = int((p & t).sum()); inter += hit; union += int((p | t).sum()); lost += hit < 0.5 * t.sum()
    return {'iou': inter / max(union, 1), 'lost': int(lost), 'faces': len(faces)}

def painted(masker, photos, names):
    "Photos with any pixel called face (and their `names`), and the share of all pixels."
    shares = [float((m > 127).mean()) for i in range(0, len(photos), 8) for m in masker.predict(photos[i:i + 8])]
    px = np.array([p.shape[0] * p.shape[1] for p in photos], float)
    return {'photos': len(photos), 'painted': int(sum(s > 0 for s in shares)), 'pixels': float((np.array(shares) * px).sum() / px.sum()),
            'names': [n for n, s in zip(names, shares) if s > 0]}

def figure(path, angles=(0, 45, 90, 180)):
    "The repository's public-domain example photo turned by `angles` (columns), masked by the accurate model as it is and with `any_angle` (rows)."
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    from facemask.core import read_image
    from facemask.inference import FaceMasker, overlay
    photo, models = read_image(REPO/'examples'/'grace_hopper.jpg'), {'accurate': {}, 'accurate, any_angle': {'any_angle': True}}
    fig, axs = plt.subplots(len(models), len(angles), figsize=(3.2 * len(angles), 3.8 * len(models)), squeeze=False)
    for r, (name, kwargs) in enumerate(models.items()):
        masker = FaceMasker.from_pretrained(accurate=True, device='cpu', **kwargs)
        for c, d in enumerate(angles):
            im = turn(photo, d); mask = masker.predict(im)
            axs[r, c].imshow(overlay(im, mask)); axs[r, c].axis('off'); axs[r, c].set_title(f'{name}, turned {d} deg: {(mask > 0).mean():.1%} face', fontsize=8)
    fig.tight_layout(); fig.savefig(path, dpi=72); plt.close(fig)
    return path

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('models', nargs='*', help='name=spec (default: the accurate model and the CPU default)')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--noface', default=str(SHARED/'no-face'))
    p.add_argument('--limit', type=int, help='cut every set to N items'); p.add_argument('--out', default=str(REPO/'benchmarks/reports/rolled'))
    p.add_argument('--timed', type=int, default=20, help='upright faces timed per round'); p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--figure-only', action='store_true', help='write <out>_examples.png and stop')
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    if a.figure_only: return print(figure(f'{a.out}_examples.png'))
    from generalisation import parse_spec
    from noface_all import cpu_name, write_report
    from facemask.core import read_image
    from facemask.data import prepare
    from facemask.evaluate import benchmark_set
    from facemask.inference import FaceMasker, default_weights
    specs = dict(m.split('=', 1) for m in a.models) or {'accurate': str(default_weights(accurate=True)), 'cpu_default': str(default_weights(accurate=False))}
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:a.limit]
    faces, truths = benchmark_set(prepare(a.data, REPO/'data'/'bench-prepared'), ids)[:2]
    noface_names = json.loads((REPO/'configs/split_noface.json').read_text())['val'][:a.limit]
    noface = [read_image(Path(a.noface)/'images'/n) for n in noface_names]
    rows, maskers, t0 = {}, {}, time.time()
    for name, spec in specs.items():
        path, kwargs = parse_spec(spec)
        masker = maskers[name] = FaceMasker.from_pretrained(path, device='cpu', **kwargs)
        rows[name] = {'spec': spec, 'faces': {str(d): score_faces(masker, [turn(f, d) for f in faces], [turn(t, d, mask=True) for t in truths]) for d in ANGLES},  # keys as JSON keeps them
                      'noface': {str(d): painted(masker, [turn(im, d) for im in noface], noface_names) for d in (0, 90, 180)}}
        print(name, {d: (round(r['iou'], 4), r['lost']) for d, r in rows[name]['faces'].items()}, f'{time.time() - t0:.0f} s', flush=True)
    minutes, times = round((time.time() - t0) / 60, 1), {n: [] for n in maskers}
    for _ in range(a.rounds):
        for face in faces[:a.timed]:
            for n, m in maskers.items():
                s = time.perf_counter(); m.predict(face); times[n].append(time.perf_counter() - s)
    for n, t in times.items(): rows[n]['ms'] = {'median': float(np.median(t) * 1000), 'p10': float(np.percentile(t, 10) * 1000), 'p90': float(np.percentile(t, 90) * 1000)}
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'minutes': minutes,
           'faces': len(faces), 'noface_photos': len(noface), 'timed': f'the first {min(a.timed, len(faces))} upright faces, {a.rounds} rounds', 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(rep):
    rows = rep['rows']
    out = ['# Faces turned in the image plane (roll)\n',
           f"Measured {rep['date']} by `benchmarks/rolled.py` (scoring: {rep['minutes']} min) on {rep['hardware']}. Data (research-only, ../shared/data): the "
           f"{rep['faces']} validation faces of CelebAMask-HQ-mini (`configs/split_celebamask_mini.json` 'val', 512x512) turned counter-clockwise by each angle, "
           "the frame grown to hold the whole photo and its new corners filled from the photo's edge, scored against their turned masks; "
           f"the {rep['noface_photos']} held-out photos without a face (`configs/split_noface.json` 'val') upright, on their side (90) and upside down (180). "
           "Each model through `FaceMasker.predict` with its defaults. A face is lost when under half of its truth is called face.\n",
           'Models: ' + '; '.join(f"`{n}` = `{r['spec']}`" for n, r in rows.items()) + '.\n',
           '## Faces: pooled IoU, faces lost\n',
           '| model | ' + ' | '.join(f'{d} deg' for d in ANGLES) + ' |', '|---' * (len(ANGLES) + 1) + '|']
    out += [f'| {n} | ' + ' | '.join(f"{r['faces'][str(d)]['iou']:.4f}, {r['faces'][str(d)]['lost']}" for d in ANGLES) + ' |' for n, r in rows.items()]
    out += ['\n## Photos without a face: photos with any face pixel, share of all pixels\n', '| model | upright | on its side (90 deg) | upside down (180 deg) |', '|---|---|---|---|']
    out += [f'| {n} | ' + ' | '.join(f"{r['noface'][str(d)]['painted']} of {r['noface'][str(d)]['photos']}, {r['noface'][str(d)]['pixels']:.3%}" for d in (0, 90, 180)) + ' |'
            for n, r in rows.items()]
    out += [f"\n## Time per upright 512x512 photo ({rep['timed']}, side by side)\n", '| model | median ms | p10 ms | p90 ms |', '|---|---|---|---|']
    out += [f"| {n} | {r['ms']['median']:.1f} | {r['ms']['p10']:.1f} | {r['ms']['p90']:.1f} |" for n, r in rows.items()]
    short = lambda n: n.split('_', 1)[1].rsplit('.', 1)[0]
    out += ['\nPainted photos, upright / on its side / upside down:\n']
    out += [f'- {n}: ' + ' / '.join(', '.join(map(short, r['noface'][str(d)]['names'])) or 'none' for d in (0, 90, 180)) for n, r in rows.items()]
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
