"""Large photos: `FaceMasker` at the photo's full resolution against working on a copy no larger than `max_side`
(the default, 2560 px) and resizing the probabilities back, side by side on the same frames: time per photo, network
passes, accuracy against the truth, faces found, and how far the masks differ from the full-resolution ones; and the
same without the second look at close-ups whose face-presence score falls just short (`recheck=0`).

Frames (seeded; faces and truth from benchmarks/real_world.py's generators): the first --framed validation faces of
CelebAMask-HQ-mini, each scaled to the frame's height in its middle (a portrait, as phones take them), and --collages
frames of 1-5 validation faces (side log-uniform between 2.5% and 70% of the frame's longer side, so also faces a
full-resolution pass finds only in its finest tiles) on a desk photo of ../shared/data/hands or a generated texture;
at 3840x2160 (a 4K video frame), 4032x3024 (12 MP, a phone photo) and 8064x6048 (48 MP). Writes
benchmarks/reports/large_photos.md and .json.

    python benchmarks/large_photos.py                 # ~12 min on 2 CPU cores
    python benchmarks/large_photos.py --framed 1 --collages 1 --sides 4032x3024   # a quick look
"""
import argparse, glob, inspect, json, time
from pathlib import Path

import cv2
import numpy as np
import torch

from facemask.core import read_image
from facemask.inference import FaceMasker, default_weights
from noface_all import cpu_name, write_report
from real_world import REPO, SHARED, collage, iou, val_faces
from speed import counted, framed

def frames_at(faces, desks, W, H, n_framed, n_collages, rng):
    "(kind, image, truth, owner, sides) of the framed faces and the collages at WxH."
    out = []
    for im, m in faces[:n_framed]:
        truth = np.zeros((H, W), np.uint8); x = (W - H) // 2
        truth[:, x:x + H] = np.where(cv2.resize(m, (H, H), interpolation=cv2.INTER_LINEAR) > 127, 255, 0)
        owner = np.full((H, W), -1, np.int16); owner[:, x:x + H] = 0
        out.append(('framed', framed(im, W, H), truth, owner, [H]))
    for _ in range(n_collages):
        img, gt, owner, sides = collage(rng, faces, desks, W, H, (round(0.025 * W), round(0.7 * H)))
        out.append(('collage', img, gt, owner, sides))
    return out

def measure(maskers, frames, rounds):
    "Per masker and kind of frame: seconds per photo, passes, pooled IoU, faces found (IoU above 0.5 within their own square), IoU with the first masker's masks; the methods take turns on each frame."
    names = list(maskers)
    res = {k: {} for k in names}
    for kind, img, gt, owner, sides in frames:
        masks = {}
        for r in range(rounds):
            for k in names:
                m = maskers[k]; counted(m.model)
                s = time.perf_counter(); mask = m.predict(img) > 0; t = time.perf_counter() - s
                passes = m.model.passes; del m.model.predict_proba
                if r: res[k][kind]['seconds'].append(t); continue
                masks[k] = mask
                d = res[k].setdefault(kind, {'seconds': [], 'passes': [], 'inter': 0, 'union': 0, 'faces': 0, 'found': 0, 'same_inter': 0, 'same_union': 0, 'missed_sides': []})
                d['seconds'].append(t); d['passes'].append(passes)
                g = gt > 127
                d['inter'] += int((mask & g).sum()); d['union'] += int((mask | g).sum())
                for j, side in enumerate(sides):
                    own = owner == j; ok = iou(mask & own, g & own) > 0.5
                    d['faces'] += 1; d['found'] += ok
                    if not ok: d['missed_sides'].append(side)
                d['same_inter'] += int((mask & masks[names[0]]).sum()); d['same_union'] += int((mask | masks[names[0]]).sum())
        print(kind, img.shape, {k: round(res[k][kind]['seconds'][-1], 3) for k in names}, flush=True)
    return {k: {kind: {'median_ms': float(np.median(d['seconds']) * 1000), 'passes': float(np.mean(d['passes'])), 'pooled_iou': d['inter'] / max(1, d['union']),
                       'faces': d['faces'], 'found': d['found'], 'missed_sides': sorted(d['missed_sides']),
                       'iou_with_full_resolution': d['same_inter'] / max(1, d['same_union'])} for kind, d in v.items()} for k, v in res.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--framed', type=int, default=4); p.add_argument('--collages', type=int, default=16); p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--sides', default='3840x2160,4032x3024,8064x6048'); p.add_argument('--max-sides', default='2560,2048')
    p.add_argument('--no-recheck-rows', action='store_true', help='leave out the rows without the close-ups\' recheck (recheck=0)')
    p.add_argument('--weights', help='default: the CPU default'); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default=str(REPO/'benchmarks/reports/large_photos'))
    a = p.parse_args()
    torch.set_num_threads(a.threads); cv2.setNumThreads(a.threads)
    start, weights = time.time(), a.weights or default_weights(accurate=False)
    faces = val_faces(SHARED/'CelebAMask-HQ-mini')
    desks = [read_image(f) for f in sorted(glob.glob(str(SHARED/'hands'/'images'/'desk_*.jpg')))]
    model = FaceMasker.from_pretrained(weights, device='cpu').model
    default = inspect.signature(FaceMasker).parameters['max_side'].default
    maskers = {'full resolution (--max-side 0)': FaceMasker(model, max_side=None)} | {f'max_side={s}' + (' (default)' if s == default else ''): FaceMasker(model, max_side=s) for s in map(int, a.max_sides.split(','))}
    if not a.no_recheck_rows:  # what the close-ups' recheck adds, at the default and at full resolution (the path before both)
        maskers |= {f'max_side={default}, recheck=0': FaceMasker(model, recheck=0), 'full resolution, recheck=0 (before 2026-12-08)': FaceMasker(model, max_side=None, recheck=0)}
    rng, sizes = np.random.default_rng(0), {}
    for size in a.sides.split(','):
        W, H = map(int, size.split('x'))
        sizes[size] = measure(maskers, frames_at(faces, desks, W, H, a.framed, a.collages, rng), a.rounds)
    rep = {'date': time.strftime('%Y-%m-%d'), 'hardware': f'{cpu_name()}, {a.threads} threads, PyTorch {torch.__version__}', 'minutes': (time.time() - start) / 60,
           'weights': str(Path(weights).relative_to(REPO)) if Path(weights).is_relative_to(REPO) else str(weights), 'rounds': a.rounds,
           'data': f'{a.framed} framed validation faces and {a.collages} collages a size (seeded), 160 validation faces of CelebAMask-HQ-mini (configs/split_celebamask_mini.json), desk photos of ../shared/data/hands',
           'sizes': sizes}
    print(write_report(Path(a.out), rep, markdown(rep)))

def markdown(r):
    names = list(next(iter(r['sizes'].values())))
    lines = ['# Large photos: full resolution or a smaller working copy', '',
             f"{r['date']}; {r['hardware']}; `{r['weights']}` through `FaceMasker.predict`, written by `benchmarks/large_photos.py` in {r['minutes']:.1f} min. "
             f"Data: {r['data']}. Framed: a face scaled to the frame's height in its middle; collage: 1-5 faces, 2.5% to 70% of the frame's side. "
             f"Times are medians of {r['rounds']} rounds, the paths taking turns on each frame; a face counts as found where its own square scores IoU above 0.5. "
             'The last column compares each mask with the full-resolution one (IoU of the two masks).', '',
             '| frame | kind | path | median ms | network passes | pooled IoU | faces found | sides of faces missed (px) | IoU with full resolution |', '|---|---|---|---|---|---|---|---|---|']
    for size, res in r['sizes'].items():
        for kind in res[names[0]]:
            for k in names:
                d = res[k][kind]
                same = '' if k == names[0] else f"{d['iou_with_full_resolution']:.4f}"
                lines.append(f"| {size} | {kind} | {k} | {d['median_ms']:.0f} | {d['passes']:.1f} | {d['pooled_iou']:.4f} | {d['found']}/{d['faces']} | "
                             f"{', '.join(map(str, d['missed_sides'])) or '-'} | {same} |")
    return '\n'.join(lines) + '\n'

if __name__ == '__main__': main()
