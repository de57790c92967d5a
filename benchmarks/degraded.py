"""Photos of worse quality than CelebA-HQ's: black-and-white and sepia prints, out-of-focus and shaken shots, faces
from small images blown up, heavy JPEG compression; and coloured light (stage, neon) and red and blue swapped (an OpenCV
photo passed on unconverted). Scores each model on the validation faces of CelebAMask-HQ-mini
degraded each way (the truth unchanged), and on the held-out photos without a face degraded the same ways. Each model
through `FaceMasker.predict` with its defaults. Writes <out>.json and <out>.md (default benchmarks/reports/degraded).

    python benchmarks/degraded.py                      # the accurate model and the CPU default
    python benchmarks/degraded.py new=runs/new/presence.pt

A spec is `path` or `path;key=value;...` (benchmarks/generalisation.py's): the pairs go to FaceMasker.from_pretrained.
A section of the report headed `## Reading` is written by hand and kept when the script rewrites the tables.
"""
import argparse, json, sys, time
from pathlib import Path

import cv2
import numpy as np

from facemask.hands import colour_light, from_smaller, motion_blur, recompress, to_gray

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'benchmarks'))
SHARED = REPO.parent/'shared'/'data'

DEGRADATIONS = {  # name: (what it is, function of an RGB uint8 photo)
    'clean': ('as it is', lambda im: im),
    'gray': ('black and white', to_gray), 'sepia': ('sepia print', lambda im: to_gray(im, sepia=True)),
    'blur2': ('out of focus, Gaussian sigma 2 px', lambda im: cv2.GaussianBlur(im, (0, 0), 2)), 'blur4': ('out of focus, sigma 4 px', lambda im: cv2.GaussianBlur(im, (0, 0), 4)),
    'shake15': ('shaken, 15 px horizontal motion blur', lambda im: motion_blur(im, 15)),
    'small4': ('from a 4x smaller image (128 px face photo)', lambda im: from_smaller(im, 4)), 'small8': ('from an 8x smaller image (64 px)', lambda im: from_smaller(im, 8)),
    'jpeg20': ('JPEG quality 20', lambda im: recompress(im, 20)), 'jpeg10': ('JPEG quality 10', lambda im: recompress(im, 10)),
    'bgr': ('red and blue swapped (OpenCV BGR)', lambda im: im[..., ::-1]),
    'blue': ('blue light (hue 240, saturation 0.7)', lambda im: colour_light(im, 240, 0.7)), 'magenta': ('magenta light (300, 0.7)', lambda im: colour_light(im, 300, 0.7)),
    'green': ('green light (120, 0.6)', lambda im: colour_light(im, 120, 0.6)), 'amber': ('amber light (35, 0.7)', lambda im: colour_light(im, 35, 0.7)),
}  # fixed amounts of facemask.hands.degrade's kinds and ColouredLight's, which training draws (p_degrade, p_colour)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('models', nargs='*', help='name=spec (default: the accurate model and the CPU default)')
    p.add_argument('--data', default=str(SHARED/'CelebAMask-HQ-mini')); p.add_argument('--noface', default=str(SHARED/'no-face'))
    p.add_argument('--limit', type=int, help='cut every set to N items'); p.add_argument('--out', default=str(REPO/'benchmarks/reports/degraded'))
    a = p.parse_args()
    import torch; torch.set_num_threads(2)
    from generalisation import parse_spec
    from noface_all import cpu_name, write_report
    from rolled import painted, score_faces
    from facemask.core import read_image
    from facemask.data import face_lightness, lightness_quartiles, prepare
    from facemask.evaluate import benchmark_set
    from facemask.inference import FaceMasker, default_weights
    specs = dict(m.split('=', 1) for m in a.models) or {'accurate': str(default_weights(accurate=True)), 'cpu_default': str(default_weights(accurate=False))}
    ids = json.loads((REPO/'configs/split_celebamask_mini.json').read_text())['val'][:a.limit]
    faces, truths = benchmark_set(prepare(a.data, REPO/'data'/'bench-prepared'), ids)[:2]
    darkest = np.array(lightness_quartiles([face_lightness(f, t) for f, t in zip(faces, truths)])) == 0
    noface_names = json.loads((REPO/'configs/split_noface.json').read_text())['val'][:a.limit]
    noface = [read_image(Path(a.noface)/'images'/n) for n in noface_names]
    rows, t0 = {}, time.time()
    for name, spec in specs.items():
        path, kwargs = parse_spec(spec)
        masker = FaceMasker.from_pretrained(path, device='cpu', **kwargs)
        rows[name] = {'spec': spec, 'faces': {}, 'darkest': {}, 'noface': {}}
        for d, (_, fn) in DEGRADATIONS.items():
            seen = [np.ascontiguousarray(fn(f)) for f in faces]
            rows[name]['faces'][d] = score_faces(masker, seen, truths)
            rows[name]['darkest'][d] = score_faces(masker, [s for s, k in zip(seen, darkest) if k], [t for t, k in zip(truths, darkest) if k])
            rows[name]['noface'][d] = painted(masker, [np.ascontiguousarray(fn(im)) for im in noface], noface_names)
        print(name, {d: (round(r['iou'], 4), r['lost']) for d, r in rows[name]['faces'].items()}, f'{time.time() - t0:.0f} s', flush=True)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, 2 CPU threads, PyTorch {torch.__version__}', 'minutes': round((time.time() - t0) / 60, 1),
           'faces': len(faces), 'darkest_faces': int(darkest.sum()), 'noface_photos': len(noface), 'degradations': {d: what for d, (what, _) in DEGRADATIONS.items()}, 'rows': rows}
    print(write_report(a.out, rep, markdown(rep)))

def markdown(rep):
    rows, names = rep['rows'], list(rep['degradations'])
    short = lambda n: n.split('_', 1)[1].rsplit('.', 1)[0]
    out = ['# Photos of worse quality and in coloured light: black and white, blur, small, heavily compressed, coloured light, BGR\n',
           f"Measured {rep['date']} by `benchmarks/degraded.py` in {rep['minutes']} min on {rep['hardware']}. Data (research-only, ../shared/data): the "
           f"{rep['faces']} validation faces of CelebAMask-HQ-mini (`configs/split_celebamask_mini.json` 'val', 512x512), each degraded as the columns say "
           f"and scored against its own mask; among them the {rep['darkest_faces']} of the darkest skin-lightness quartile (`face_lightness`); the "
           f"{rep['noface_photos']} held-out photos without a face (`configs/split_noface.json` 'val') degraded the same ways. Each model through "
           "`FaceMasker.predict` with its defaults. A face is lost when under half of its truth is called face.\n",
           'Degradations: ' + '; '.join(f'`{d}` {what}' for d, what in rep['degradations'].items()) + '.\n',
           'Models: ' + '; '.join(f"`{n}` = `{r['spec']}`" for n, r in rows.items()) + '.\n']
    for key, title in (('faces', 'All faces'), ('darkest', 'The darkest skin quartile')):
        out += [f'## {title}: pooled IoU, faces lost\n', '| model | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
        out += [f'| {n} | ' + ' | '.join(f"{r[key][d]['iou']:.4f}, {r[key][d]['lost']}" for d in names) + ' |' for n, r in rows.items()]
        out.append('')
    out += ['## Photos without a face: photos with any face pixel\n', '| model | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
    out += [f'| {n} | ' + ' | '.join(f"{r['noface'][d]['painted']} of {r['noface'][d]['photos']}" for d in names) + ' |' for n, r in rows.items()]
    out += ['\nPainted photos by degradation:\n']
    out += [f'- {n}: ' + '; '.join(f"{d} " + (', '.join(map(short, r['noface'][d]['names'])) or 'none') for d in names) for n, r in rows.items()]
    return '\n'.join(out) + '\n'

if __name__ == '__main__': main()
